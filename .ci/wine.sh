#!/usr/bin/env bash
# The Windows build under Wine: vets and builds for GOOS=windows, then runs
# the cross-compiled tests of the iocp engine (internal/port), the test kit and
# the root package under wine64, and serves and stresses with servercore.exe on the
# iocp backend. Installs wine64 and the mingw binutils with apt-get if they
# are missing, and builds the bcryptprimitives.dll forwarder that Go >= 1.22
# binaries need on Wine 8 from internal/port/testdata/wine. .ci/run calls it
# with CI=true; it runs alone too: bash .ci/wine.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"

WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver

# A regexp of root tests to skip under Wine (go test -skip), empty by
# default: set WINE_ROOT_SKIP to leave out a test Wine cannot run.
ROOT_SKIP="${WINE_ROOT_SKIP:-}"

missing=()
[ -x "$WINE" ] || missing+=(wine64)
command -v x86_64-w64-mingw32-ld >/dev/null 2>&1 || missing+=(binutils-mingw-w64-x86-64)
if [ ${#missing[@]} -gt 0 ]; then
	echo "wine: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "wine: GOOS=windows go vet ./..."
GOOS=windows go vet ./...

work="$(mktemp -d)"
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY
serve_pid=
cleanup() {
	if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; fi
	"$WINESERVER" -k >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "wine: GOOS=windows go build ./cmd/servercore; go test -c . ./internal/port ./internal/testkit"
GOOS=windows go build -o "$work/servercore.exe" ./cmd/servercore
GOOS=windows go test -c -o "$work/servercore.test.exe" .
GOOS=windows go test -c -o "$work/port.test.exe" ./internal/port
GOOS=windows go test -c -o "$work/testkit.test.exe" ./internal/testkit

# bcryptprimitives.dll: ProcessPrng forwarded to advapi32.SystemFunction036.
src=internal/port/testdata/wine
x86_64-w64-mingw32-as -o "$work/dllmain.o" "$src/dllmain.s"
x86_64-w64-mingw32-ld --shared --entry DllMain -o "$work/bcryptprimitives.dll" \
	"$work/dllmain.o" "$src/bcryptprimitives.def"

# Wine's helper processes inherit stdout and stderr and keep pipes open:
# start them first with their output discarded.
echo "wine: making a prefix"
mkdir -p "$WINEPREFIX"
"$WINESERVER" -p >/dev/null 2>&1 </dev/null
"$WINE" wineboot --init >/dev/null 2>&1 </dev/null
cp "$work/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"

passed=0 failed=0 skipped=0
# run_tests NAME DIR EXE ARGS...: runs a test binary under Wine in DIR,
# shows what failed or was skipped, and counts the results.
run_tests() {
	local name=$1 dir=$2 exe=$3 log="$work/$1.log" rc=0
	shift 3
	echo "wine: $name tests"
	(cd "$dir" && timeout 900 "$WINE" "$exe" -test.v -test.timeout 600s "$@" >"$log" 2>&1 </dev/null) || rc=$?
	local p f s
	p=$(grep -cE '^\s*--- PASS' "$log" || true)
	f=$(grep -cE '^\s*--- FAIL' "$log" || true)
	s=$(grep -cE '^\s*--- SKIP' "$log" || true)
	grep -E -B1 '^\s*--- SKIP' "$log" | grep -vE '^(--)?$' || true
	if [ "$rc" -ne 0 ]; then
		grep -E -B1 -A8 '^\s*--- FAIL|^panic|^FAIL|test timed out' "$log" | tail -80 || true
		echo "wine: $name tests failed (exit $rc)"
		f=$((f > 0 ? f : 1))
	fi
	echo "wine: $name: $p passed, $f failed, $s skipped"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

run_tests port "$root/internal/port" "$work/port.test.exe"
run_tests testkit "$root/internal/testkit" "$work/testkit.test.exe"
# The conformance suite must run on the iocp engine here, not skip it.
SERVERCORE_TEST_REQUIRE=iocp run_tests root "$root" "$work/servercore.test.exe" -test.skip "$ROOT_SKIP"

# servercore.exe end to end on the iocp backend: serve, stress, stop.
echo "wine: servercore.exe serve + stress (backend iocp)"
smoke_ok=1
"$WINE" "$work/servercore.exe" serve --listen 127.0.0.1:0 --app echo --backend iocp \
	>"$work/serve.out" 2>"$work/serve.err" </dev/null &
serve_pid=$!
for _ in $(seq 300); do
	grep -q '^listening on' "$work/serve.out" && break
	sleep 0.1
done
addr=$(sed -n 's/^listening on \([^ ]*\) .*/\1/p' "$work/serve.out")
if [ -z "$addr" ]; then
	echo "wine: servercore.exe serve did not start"; cat "$work/serve.out" "$work/serve.err"
	smoke_ok=0
else
	cat "$work/serve.out"
	if timeout 120 "$WINE" "$work/servercore.exe" stress --target "$addr" --clients 20 \
		--duration 3s --size 256 --inflight 4 --backend iocp >"$work/stress.out" 2>&1 </dev/null; then
		cat "$work/stress.out"
		grep -q 'result *OK' "$work/stress.out" || smoke_ok=0
	else
		cat "$work/stress.out"; smoke_ok=0
	fi
	kill -INT "$serve_pid" 2>/dev/null || true
	rc=0
	wait "$serve_pid" || rc=$?
	serve_pid=
	cat "$work/serve.err"
	if [ "$rc" -ne 0 ]; then
		echo "wine: servercore.exe serve exited $rc after SIGINT"; smoke_ok=0
	fi
fi
if [ "$smoke_ok" = 1 ]; then
	passed=$((passed + 1))
else
	echo "wine: servercore.exe serve + stress failed"
	failed=$((failed + 1))
fi

echo "wine: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
