#!/usr/bin/env bash
# Regenerates the MMO browser client's generated files — the protobuf code
# protoc-gen-es makes of mmo.proto, the packet ids taken from the Go
# constants, and the esbuild bundle static/app.js — with
# examples/mmo/web/devtool's webgen, after type-checking src/ with tsc, and
# fails if any differs from what is committed. Installs what it needs when
# missing: protoc (Debian's protobuf-compiler) and Node.js with apt-get, the
# npm packages of package-lock.json with npm ci.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
web=examples/mmo/web

missing=()
command -v protoc >/dev/null || missing+=(protobuf-compiler)
# protoc's own .proto files (descriptor.proto), which a protoc installed
# without its recommended packages lacks.
[ -f /usr/include/google/protobuf/descriptor.proto ] || missing+=(libprotobuf-dev)
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

(cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
echo "webgen: $(protoc --version), node $(node --version), $("$web/node_modules/.bin/tsc" --version)"
(cd "$web" && node_modules/.bin/tsc -p .)
(cd "$web/devtool" && go run ./webgen)

generated=("$web/src/gen" "$web/static/app.js")
stale="$(git status --porcelain --untracked-files=all -- "${generated[@]}")"
if [ -n "$stale" ]; then
	echo "webgen: generated files differ from the committed ones; run .ci/webgen.sh and commit:"
	echo "$stale"
	git --no-pager diff --stat -- "${generated[@]}"
	exit 1
fi
echo "webgen: the browser client's generated code and bundle are up to date"
