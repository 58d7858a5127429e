#!/usr/bin/env bash
# Regenerates every committed generated file — protoc-gen-go's and
# protoc-gen-servercore's .pb.go files and the generator's fixture descriptor
# sets — with `go generate ./...`, and fails if any differs from what is
# committed. Installs what it needs when missing: protoc (Debian's
# protobuf-compiler, 3.21, which the committed files name) and
# python3-protobuf (for the Python client test) with apt-get, protoc-gen-go at
# go.mod's protobuf version with go install. protoc-gen-servercore is built
# from this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"

missing=()
command -v protoc >/dev/null || missing+=(protobuf-compiler)
# protoc's own .proto files (descriptor.proto), which a protoc installed
# without its recommended packages lacks.
[ -f /usr/include/google/protobuf/descriptor.proto ] || missing+=(libprotobuf-dev)
/usr/bin/python3 -c 'import google.protobuf' 2>/dev/null || missing+=(python3-protobuf)
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
version="$(go list -m -f '{{.Version}}' google.golang.org/protobuf)"
GOBIN="$bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$version"
GOBIN="$bin" go install ./cmd/protoc-gen-servercore
echo "protogen: $(protoc --version), $("$bin/protoc-gen-go" --version), $("$bin/protoc-gen-servercore" --version)"

PATH="$bin:$PATH" go generate ./...

generated=('*.pb.go' 'cmd/protoc-gen-servercore/testdata/*.pb')
stale="$(git status --porcelain --untracked-files=all -- "${generated[@]}")"
if [ -n "$stale" ]; then
	echo "protogen: generated files differ from the committed ones; run .ci/protogen.sh and commit:"
	echo "$stale"
	git --no-pager diff --stat -- "${generated[@]}"
	exit 1
fi
echo "protogen: generated code is up to date"
