#!/bin/sh
# Compiles each fixture into a FileDescriptorSet next to it (imports and
# comments included), so that the golden tests run the plugin in-process
# without protoc. Run by go generate from the directory above.
set -eu
cd "$(dirname "$0")"
for f in *.proto; do
	case "$f" in samepkg_*) continue ;; esac
	protoc -I . -I ../../../proto --include_imports --include_source_info \
		--descriptor_set_out="${f%.proto}.pb" "$f"
done
# Two files of one Go package, in one request.
protoc -I . -I ../../../proto --include_imports --include_source_info \
	--descriptor_set_out=samepkg.pb samepkg_a.proto samepkg_b.proto
