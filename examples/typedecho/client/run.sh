#!/bin/sh
# Runs the Python client against a typed echo server started here, by hand:
#   sh examples/typedecho/client/run.sh
# Needs protoc and Python's protobuf (Debian: protobuf-compiler python3-protobuf).
set -eu
cd "$(dirname "$0")/../../.."
pb="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null; rm -rf "$pb"' EXIT
protoc -I examples/typedecho/echopb --python_out="$pb" echo.proto
go build -o "$pb/server" ./examples/typedecho/server
"$pb/server" -listen 127.0.0.1:7788 &
server=$!
sleep 1
python="${PYTHON:-python3}"
# A version manager's python3 may not see Debian's python3-protobuf.
if ! "$python" -c 'import google.protobuf' 2>/dev/null && [ -x /usr/bin/python3 ]; then
	python=/usr/bin/python3
fi
"$python" examples/typedecho/client/client.py --addr 127.0.0.1:7788 --pb "$pb"
