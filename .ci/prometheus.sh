#!/usr/bin/env bash
# A real Prometheus scrapes two "servercore serve --metrics", the echo app
# and the MMO sample, every second during a short stress run of each, and
# its HTTP API must then hold the sessions and disconnect series, the game's
# job pool's (its latency histogram included) and the game's own, with the
# values the runs imply. Installs Debian's
# prometheus with apt-get if it is missing; everything listens on
# loopback only. .ci/run calls it with CI=true; it runs alone too:
# bash .ci/prometheus.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"

clients=20
missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
	echo "prometheus: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work="$(mktemp -d)"
serve_pid= mmo_pid= prom_pid=
cleanup() {
	if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; fi
	if [ -n "$mmo_pid" ]; then kill "$mmo_pid" 2>/dev/null || true; fi
	if [ -n "$prom_pid" ]; then kill "$prom_pid" 2>/dev/null || true; fi
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "prometheus: $*"
	for f in echo.out echo.err mmo.out mmo.err stress.out prometheus.log; do
		[ -f "$work/$f" ] && { echo "--- $f"; tail -20 "$work/$f"; }
	done
	exit 1
}

go build -o "$work/servercore" ./cmd/servercore

# start APP: starts serve --app APP with metrics, its output in
# $work/APP.out and .err, and sets pid, addr and metrics to its pid, game
# address and metrics address.
start() {
	"$work/servercore" serve --listen 127.0.0.1:0 --app "$1" --metrics 127.0.0.1:0 \
		>"$work/$1.out" 2>"$work/$1.err" </dev/null &
	pid=$!
	for _ in $(seq 100); do
		grep -q '^metrics on' "$work/$1.out" && break
		kill -0 "$pid" 2>/dev/null || fail "serve --app $1 exited: $(cat "$work/$1.err")"
		sleep 0.1
	done
	addr=$(sed -n 's/^listening on \([^ ]*\) .*/\1/p' "$work/$1.out")
	metrics=$(sed -n 's|^metrics on http://\([^/]*\)/metrics$|\1|p' "$work/$1.out")
	[ -n "$addr" ] && [ -n "$metrics" ] || fail "serve --app $1 did not start"
	echo "prometheus: serve --app $1 on $addr, metrics on $metrics"
}
start echo
serve_pid=$pid addr_echo=$addr metrics_echo=$metrics
start mmo
mmo_pid=$pid addr_mmo=$addr metrics_mmo=$metrics

# A free port for Prometheus: the kernel picks one, which is closed again
# and reused at once; a clash fails the readiness wait below.
prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: servercore
    static_configs:
      - targets: ['$metrics_echo', '$metrics_mmo']
YML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
	--web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 </dev/null &
prom_pid=$!
api="http://127.0.0.1:$prom_port"
for _ in $(seq 150); do
	curl -sf -m 1 "$api/-/ready" >/dev/null 2>&1 && break
	kill -0 "$prom_pid" 2>/dev/null || fail "Prometheus exited: $(tail -5 "$work/prometheus.log")"
	sleep 0.2
done
curl -sf -m 5 "$api/-/ready" >/dev/null || fail "Prometheus did not become ready on port $prom_port"

# query EXPR: the value of the instant query's only sample, or empty.
query() {
	curl -sf -m 5 --get "$api/api/v1/query" --data-urlencode "query=$1" |
		sed -n 's/.*"result":\[{"metric":{[^}]*},"value":\[[^,]*,"\([^"]*\)"\]}\].*/\1/p'
}
# wait_for EXPR: waits up to 15 s for the query to return 1 (a comparison
# that holds, with the bool modifier).
wait_for() {
	local v
	for _ in $(seq 75); do
		v=$(query "$1")
		[ "$v" = 1 ] && { echo "prometheus: $1: yes"; return 0; }
		sleep 0.2
	done
	fail "$1 never held (last: '${v:-no sample}')"
}

wait_for 'sum(up{job="servercore"}) == bool 2'
timeout 60 "$work/servercore" stress --target "$addr_echo" --clients "$clients" --duration 4s --size 64 --inflight 4 \
	>"$work/stress.out" 2>&1 </dev/null || { cat "$work/stress.out"; fail "stress failed"; }
grep -q 'result *OK' "$work/stress.out" || { cat "$work/stress.out"; fail "stress did not report OK"; }

# During the run every client was connected at some scrape; after it, all
# had gone, each counted once among the disconnects.
wait_for "max_over_time(servercore_sessions{service=\"echo\"}[1m]) == bool $clients"
wait_for "servercore_sessions{service=\"echo\"} == bool 0"
wait_for "servercore_accepted_total{service=\"echo\"} == bool $clients"
wait_for "sum(servercore_disconnects_total{service=\"echo\"}) == bool $clients"
wait_for "servercore_refused_total{service=\"echo\"} == bool 0"
wait_for "increase(servercore_received_packets_total{service=\"echo\"}[1m]) > bool 0"
# The dashboard's CPU per packet joins each process's series to its
# service's.
wait_for 'count(rate(process_cpu_seconds_total[1m]) / on (instance, job) group_right sum by (instance, job, service) (rate(servercore_received_packets_total[1m]))) == bool 2'
echo "prometheus: the echo run's disconnects by cause:"
curl -sf -m 5 --get "$api/api/v1/query" --data-urlencode 'query=sum by (cause) (servercore_disconnects_total{service="echo"}) > 0' |
	grep -o '"cause":"[^"]*"},"value":\[[^,]*,"[^"]*"' | sed 's/"cause":"\([^"]*\)".*,"\([^"]*\)"$/  \1 \2/' || true

# The game: its bots log in and play in its rooms, each room a queue of its
# job pool, whose jobs are timed from post to start.
timeout 60 "$work/servercore" stress --target "$addr_mmo" --mode mmo --clients "$clients" --duration 4s \
	>"$work/stress.out" 2>&1 </dev/null || { cat "$work/stress.out"; fail "stress --mode mmo failed"; }
m='{service="mmo"}'
wait_for "max_over_time(servercore_mmo_players$m[1m]) == bool $clients"
wait_for "servercore_mmo_players$m == bool 0"
wait_for "servercore_mmo_rooms$m == bool 8"
wait_for "increase(servercore_mmo_relayed_total{service=\"mmo\",kind=\"move\"}[1m]) > bool 0"
wait_for "count(servercore_mmo_dropped_total$m) == bool 8"
wait_for "servercore_job_queues_created_total$m == bool 8"
wait_for "increase(servercore_jobs_run_total$m[1m]) > bool 0"
wait_for "servercore_job_panics_total$m == bool 0"
wait_for "count(servercore_job_late_ticks_total$m) + count(servercore_job_mailbox_jobs$m) + count(servercore_job_mailbox_max_jobs$m) == bool 3"
wait_for "increase(servercore_job_start_latency_seconds_count$m[1m]) > bool 0"
wait_for "servercore_job_start_latency_seconds_bucket{service=\"mmo\",le=\"+Inf\"} - ignoring (le) servercore_job_start_latency_seconds_count$m == bool 0"
wait_for "histogram_quantile(0.99, sum by (le) (increase(servercore_job_start_latency_seconds_bucket$m[1m]))) > bool 0"
wait_for "servercore_job_start_latency_seconds_sum$m > bool 0"
wait_for "max_over_time(servercore_sessions$m[1m]) == bool $clients"
wait_for "sum(servercore_disconnects_total$m) == bool $clients"
echo "prometheus: the game's job start latency, p50 and p99 over the run (s): $(query "histogram_quantile(0.5, sum by (le) (increase(servercore_job_start_latency_seconds_bucket$m[1m])))") $(query "histogram_quantile(0.99, sum by (le) (increase(servercore_job_start_latency_seconds_bucket$m[1m])))")"

# Every query of the Grafana dashboard must be one Prometheus accepts.
python3 -c 'import json,sys
for p in json.load(open(sys.argv[1]))["panels"]:
    for t in p.get("targets", []): print(t["expr"])' metrics/grafana/servercore.json |
	sed -e 's/\$service/.*/g' -e 's/\$__rate_interval/5s/g' >"$work/exprs"
n=0
while IFS= read -r expr; do
	curl -sf -m 5 --get "$api/api/v1/query" --data-urlencode "query=$expr" | grep -q '"status":"success"' ||
		fail "the dashboard's query $expr fails"
	n=$((n + 1))
done <"$work/exprs"
[ "$n" -gt 0 ] || fail "no query found in the dashboard"
echo "prometheus: the dashboard's $n queries run"

for app in echo mmo; do
	if [ "$app" = echo ]; then pid=$serve_pid; else pid=$mmo_pid; fi
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	if [ "$app" = echo ]; then serve_pid=; else mmo_pid=; fi
	[ "$rc" -eq 0 ] || fail "serve --app $app exited $rc after SIGINT"
done
echo "prometheus: OK"
