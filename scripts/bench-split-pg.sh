#!/usr/bin/env bash
# Split-mode benchmark on PostgreSQL and an external NATS: one `--roles ingest,api` process
# and WORKERS (1) `--roles worker` processes on a schema and a JetStream stream of their own,
# driven by `lumina loadgen` with ledger verification. Every 5 s it prints the spans the
# workers committed (lumina_worker_spans_stored_total, summed) and the worker lag
# (lumina_queue_pending, in OTLP requests); at the end, each process's CPU per stored span.
# The schema and the streams are dropped on exit.
#
#   DATABASE_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' NATS_URL=nats://127.0.0.1:4222 \
#   WORKERS=2 scripts/bench-split-pg.sh --span-rate 20000 --duration 30s --verify-timeout 300s
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin/lumina}
[ -x "$bin" ] || make build >/dev/null
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL URL}" "${NATS_URL:?set NATS_URL to the NATS server}"
workers=${WORKERS:-1}
id=$(date +%s)$$
schema=lumina_bench_$id
stream=LUMINA_BENCH_$id
sep='?'; [[ $DATABASE_URL == *\?* ]] && sep='&'
db="${DATABASE_URL}${sep}search_path=$schema"

# nats_delete deletes JetStream streams with the plain NATS protocol (no CLI needed).
nats_delete() {
	local hp=${NATS_URL#nats://}; hp=${hp%%,*}; hp=${hp#*@}
	exec 3<>"/dev/tcp/${hp%:*}/${hp##*:}" || return 0
	printf 'CONNECT {"verbose":false}\r\nSUB _INBOX.benchdel 1\r\n' >&3
	for s in "$@"; do printf 'PUB $JS.API.STREAM.DELETE.%s _INBOX.benchdel 0\r\n\r\n' "$s" >&3; done
	timeout 2 cat <&3 | grep -ao '"success":[a-z]*' | sort | uniq -c | sed 's/^/stream delete: /' || true
	exec 3>&-
}
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	nats_delete "$stream" "${stream}_DEAD"
	psql "$DATABASE_URL" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" 2>&1 | grep -v "^NOTICE\|^DETAIL\|^drop cascades" || true
}
trap cleanup EXIT
psql "$DATABASE_URL" -qc "CREATE SCHEMA $schema"

shared=(--database-url "$db" --nats-url "$NATS_URL" --queue-stream "$stream" --queue-subject-prefix "lbench$id"
	--daily-trace-limit 0 --log-level warn --otlp-http-addr off --otlp-grpc-addr off --replay-addr off --web-addr off)
"$bin" migrate "${shared[@]}" >/dev/null
ingest=127.0.0.1:${INGEST_PORT:-18180}
api=127.0.0.1:${API_PORT:-18181}
"$bin" serve --roles ingest,api --ingest-addr "$ingest" --api-addr "$api" --worker-addr off "${shared[@]}" &
pids+=($!)
waddrs=()
for i in $(seq 1 "$workers"); do
	w=127.0.0.1:$(( ${WORKER_PORT:-18190} + i ))
	"$bin" serve --roles worker --worker-addr "$w" --ingest-addr off --api-addr off "${shared[@]}" &
	pids+=($!)
	waddrs+=("$w")
done
for a in "$api" "${waddrs[@]}"; do
	for _ in $(seq 1 200); do curl -fs "http://$a/ready" >/dev/null 2>&1 && break; sleep 0.1; done
done

metric() { curl -fs "http://$1/metrics" | awk -v m="$2" '$1 == m {s += $2} END {print s + 0}'; }
stored() { local s=0; for w in "${waddrs[@]}"; do s=$(( s + $(metric "$w" lumina_worker_spans_stored_total | cut -d. -f1) )); done; echo "$s"; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pgcpu() { local s=0; for p in $(pgrep -u postgres); do s=$(( s + $(cpu "$p" 2>/dev/null || echo 0) )); done; echo "$s"; }
tck=$(getconf CLK_TCK)
declare -A cpu0
for p in "${pids[@]}"; do cpu0[$p]=$(cpu "$p"); done
pg0=$(pgcpu)

(
	prev=0; t=0
	while sleep 5; do
		t=$(( t + 5 )); s=$(stored)
		echo "monitor t=${t}s stored=$s (+$(( (s - prev) / 5 ))/s) queue_pending=$(metric "${waddrs[0]}" lumina_queue_pending) load=$(cut -d' ' -f1 /proc/loadavg)"
		prev=$s
	done
) &
mon=$!
echo "workers: $workers; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s.%N)
"$bin" loadgen --endpoint "http://$ingest" --api "http://$api" "$@" || echo "loadgen exit status $?"
t1=$(date +%s.%N)
kill "$mon" 2>/dev/null || true
s=$(stored)
r=0; for w in "${waddrs[@]}"; do r=$(( r + $(metric "$w" lumina_worker_redelivered_total | cut -d. -f1) )); done
echo "requests committed on a redelivery: $r"
echo "stored $s spans in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s of load + verification" \
	"(mean $(awk -v a="$t0" -v b="$t1" -v s="$s" 'BEGIN {printf "%.0f", s / (b - a)}') spans/s)"
for i in "${!pids[@]}"; do
	p=${pids[$i]}; role=worker; [ "$i" = 0 ] && role=ingest+api
	c=$(( $(cpu "$p") - ${cpu0[$p]} ))
	echo "$role pid $p: $(awk -v c="$c" -v t="$tck" -v s="$s" 'BEGIN {printf "%.1f s CPU, %.1f µs/stored span", c / t, (s > 0 ? c / t * 1e6 / s : 0)}')"
done
pg=$(( $(pgcpu) - pg0 ))
echo "postgres (all backends, other clients included): $(awk -v c="$pg" -v t="$tck" -v s="$s" 'BEGIN {printf "%.1f s CPU, %.1f µs/stored span", c / t, (s > 0 ? c / t * 1e6 / s : 0)}')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
