#!/usr/bin/env bash
# What serve --metrics costs the server: server CPU time per echoed packet
# of "servercore serve --app echo" under "servercore stress", without
# metrics and with them scraped every second, in interleaved rounds, with
# the medians and their ratio. The server's CPU time is its own process's
# (/proc/PID/stat, user + system), its packets its Stats' packets in.
#
#	bash bench/metrics_overhead.sh [ROUNDS [DURATION [CLIENTS]]]
#
# BASE=path/to/servercore adds a column for another build of the command
# (an older commit's, say), run without metrics. Linux only; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
rounds=${1:-3} duration=${2:-10s} clients=${3:-50}

work="$(mktemp -d)"
serve_pid= scrape_pid=
cleanup() {
	if [ -n "$scrape_pid" ]; then kill "$scrape_pid" 2>/dev/null || true; fi
	if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; fi
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/servercore" ./cmd/servercore
tck=$(getconf CLK_TCK)

# one VARIANT: runs a server and a stress run against it and prints the
# server's µs of CPU per packet received.
one() {
	local variant=$1 bin="$work/servercore" args=() metrics
	case $variant in
	base) bin=$BASE ;;
	metrics) args=(--metrics 127.0.0.1:0) ;;
	esac
	"$bin" serve --listen 127.0.0.1:0 --app echo --stats-interval -1s "${args[@]}" \
		>"$work/serve.out" 2>"$work/serve.err" </dev/null &
	serve_pid=$!
	for _ in $(seq 100); do
		grep -q '^listening on' "$work/serve.out" && { [ "$variant" != metrics ] || grep -q '^metrics on' "$work/serve.out"; } && break
		sleep 0.1
	done
	local addr
	addr=$(sed -n 's/^listening on \([^ ]*\) .*/\1/p' "$work/serve.out")
	if [ "$variant" = metrics ]; then
		metrics=$(sed -n 's|^metrics on \(http://.*\)$|\1|p' "$work/serve.out")
		(while :; do curl -sf -m 5 -o /dev/null "$metrics"; sleep 1; done) >/dev/null 2>&1 &
		scrape_pid=$!
	fi
	"$work/servercore" stress --target "$addr" --clients "$clients" --duration "$duration" --size 64 \
		--inflight 4 >"$work/stress.out" 2>&1 </dev/null
	grep -q 'result *OK' "$work/stress.out" || { cat "$work/stress.out" >&2; exit 1; }
	local stat cpu
	stat=$(cut -d' ' -f14,15 "/proc/$serve_pid/stat")
	cpu=$(( ${stat% *} + ${stat#* } ))
	if [ -n "$scrape_pid" ]; then kill "$scrape_pid"; wait "$scrape_pid" 2>/dev/null || true; scrape_pid=; fi
	kill -INT "$serve_pid"
	wait "$serve_pid"
	serve_pid=
	local packets
	packets=$(sed -n 's/.*sessions ([0-9]* refused), \([0-9]*\) packets in.*/\1/p' "$work/serve.err")
	awk -v c="$cpu" -v t="$tck" -v p="$packets" 'BEGIN { printf "%.4f\n", c / t / p * 1e6 }'
}

variants=(plain metrics)
[ -n "${BASE:-}" ] && variants=(base "${variants[@]}")
for r in $(seq "$rounds"); do
	for v in "${variants[@]}"; do
		# Not $(one ...): in a subshell, cleanup would not see its pids.
		one "$v" >"$work/us"
		us=$(<"$work/us")
		echo "round $r $v $us µs/packet"
		echo "$us" >>"$work/$v"
	done
done
median() { sort -g "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for v in "${variants[@]}"; do
	echo "median $v $(median "$work/$v") µs/packet"
done
awk -v m="$(median "$work/metrics")" -v p="$(median "$work/plain")" 'BEGIN { printf "metrics / plain, of the medians: %.3f×\n", m / p }'
# Each round's metrics run against the plain run beside it, which the
# machine's slow and fast spells affect alike.
paste "$work/metrics" "$work/plain" | awk '{ print $1 / $2 }' >"$work/ratios"
echo "metrics / plain, median of the rounds' ratios: $(median "$work/ratios")×"
