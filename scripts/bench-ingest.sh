#!/usr/bin/env bash
# Ingest benchmark (the daily trace quota is off for it): runs a fresh Lumina (embedded default unless DATABASE_URL/NATS_URL are set),
# drives it with `lumina loadgen`, and reports the server's CPU time per stored span and its
# peak RSS next to the load generator's own report (throughput, latency, ledger check).
#
#   scripts/bench-ingest.sh [loadgen flags…]     e.g. scripts/bench-ingest.sh --clients 8 --duration 30s
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin/lumina}
[ -x "$bin" ] || make build >/dev/null
data=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT

ingest=127.0.0.1:${INGEST_PORT:-18080}
api=127.0.0.1:${API_PORT:-18081}
"$bin" serve --data-dir "$data" --ingest-addr "$ingest" --api-addr "$api" \
	--otlp-http-addr off --otlp-grpc-addr "127.0.0.1:${GRPC_PORT:-18317}" --replay-addr off --web-addr off --worker-addr off \
	--daily-trace-limit 0 --log-level warn &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://$api/ready" >/dev/null 2>&1 && break; sleep 0.1; done

cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
tck=$(getconf CLK_TCK)
before=$(cpu)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" loadgen --endpoint "http://$ingest" --api "http://$api" "$@" | tee "$data/report.txt"
after=$(cpu)
stored=$(curl -fs "http://$api/metrics" | awk '/^lumina_worker_spans_stored_total/ {print $2}')
hwm=$(awk '/VmHWM/ {print $2, $3}' "/proc/$pid/status")
echo "server: $(( (after - before) * 1000000 / tck )) µs CPU for ${stored} stored spans" \
	"($(awk -v c=$(( after - before )) -v t="$tck" -v s="$stored" 'BEGIN { if (s > 0) printf "%.1f", c / t * 1e6 / s; else print "n/a" }') µs/span), peak RSS $hwm"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
