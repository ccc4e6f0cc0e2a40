#!/usr/bin/env bash
# Side-by-side ingest benchmark (issue 11): Lumina against the OpenTelemetry Collector built
# from its Go modules (bench/otelcol: OTLP receiver → memory_limiter → batch → nop), in one
# run on this machine, on loopback, with the same load generator (`lumina loadgen`, OTLP/HTTP
# protobuf, the llm2k-like payload: one chat span per trace, ~2 KB of prompt text) and the
# same settings for every system.
#
# Systems, in turn:
#   collector  otelcol-bench with bench/otelcol/config.yaml
#   discard    lumina serve --store discard: decode → queue publish/ack → worker acks, drops
#              (benchmark-only mode; directly comparable with collector + nop)
#   sqlite     lumina serve, embedded default (SQLite + embedded JetStream)
#   postgres   lumina serve with DATABASE_URL, in a schema of its own, dropped afterwards
#
# Each system gets a warm-up, then the offered steps (STEPS, spans/s), then flat out. Per
# phase it records accepted spans/s and request latency p50/p99 (the generator's), the server
# process's CPU per accepted span (utime+stime from /proc/<pid>/stat; in postgres mode plus
# the CPU of Lumina's own PostgreSQL backends), and at the end the peak RSS (VmHWM). In the
# storing modes every phase also runs the generator's ledger check against the API (a
# sample of the acknowledged traces, VERIFY_SAMPLE) and the end compares the store's row
# count with every span acknowledged. The queue is bounded (QUEUE_MAX_BYTES) so that flat out
# in a storing mode measures what the store sustains, not how much disk absorbs a burst; the
# bound counts stored bytes, and this payload is stored S2-compressed ~3.5×, so 64 MiB holds
# about what 256 MiB held uncompressed: some 160–180 requests of 512 spans.
#
#   bench/side-by-side.sh                      (or: make bench-compare)
#   SYSTEMS="collector discard" bench/side-by-side.sh
#   PROFILE=1 bench/side-by-side.sh            (CPU profile of discard's flat-out phase)
#
# Knobs (environment): SYSTEMS, STEPS ("5000 20000"), WARMUP (5s), STEP_DURATION (10s),
# FLAT_DURATION (20s), CLIENTS (4), SPANS_PER_REQUEST (512), PROMPT_BYTES (2048),
# VERIFY_SAMPLE (0.02), VERIFY_TIMEOUT (120s), QUEUE_MAX_BYTES (64MiB), PORT_BASE (39000),
# DATABASE_URL (postgres://postgres@127.0.0.1:5432/test?sslmode=disable), OUT (a new temp dir),
# LUMINA_BIN (a lumina binary to run instead of building this checkout's, for an A/B).
# Loopback only; with the defaults the whole run, builds included, takes about 6–9 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

SYSTEMS=${SYSTEMS:-collector discard sqlite postgres}
STEPS=${STEPS:-5000 20000}
WARMUP=${WARMUP:-5s}
STEP_DURATION=${STEP_DURATION:-10s}
FLAT_DURATION=${FLAT_DURATION:-20s}
CLIENTS=${CLIENTS:-4}
SPANS_PER_REQUEST=${SPANS_PER_REQUEST:-512}
PROMPT_BYTES=${PROMPT_BYTES:-2048}
VERIFY_SAMPLE=${VERIFY_SAMPLE:-0.02}
VERIFY_TIMEOUT=${VERIFY_TIMEOUT:-120s}
QUEUE_MAX_BYTES=${QUEUE_MAX_BYTES:-64MiB}
PORT_BASE=${PORT_BASE:-39000}
PG_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
PROFILE=${PROFILE:-0}
OUT=${OUT:-$(mktemp -d /tmp/side-by-side.XXXXXX)}
mkdir -p "$OUT"

tck=$(getconf CLK_TCK)
pid=""
schema=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [ -n "$schema" ]; then
		psql "$PG_URL" -qAtc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || echo "could not drop schema $schema" >&2
	fi
}
trap cleanup EXIT

say() { printf '%s\n' "$*" | tee -a "$OUT/log.txt" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

say "== side-by-side ingest benchmark, output in $OUT"
say "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), load average $(loadavg)"

# --- build both ---------------------------------------------------------------------------
t0=$(date +%s)
say "building bench/otelcol (the collector's Go modules; a cold module cache downloads them) and lumina"
(cd bench && go build -trimpath -o "$OUT/otelcol-bench" ./otelcol)
lumina=${LUMINA_BIN:-$OUT/lumina}
[ -n "${LUMINA_BIN:-}" ] || CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$lumina" ./cmd/lumina
say "built in $(( $(date +%s) - t0 )) s: $("$OUT/otelcol-bench" --version 2>/dev/null | head -1); lumina: $lumina"

ingest_port=$((PORT_BASE + 80))
api_port=$((PORT_BASE + 81))
debug_port=$((PORT_BASE + 60))
col_http=$((PORT_BASE + 18))
col_grpc=$((PORT_BASE + 17))
col_metrics=$((PORT_BASE + 88))

# cpu_ticks prints utime+stime of the server process, plus, in postgres mode, of the
# PostgreSQL backends whose application_name is this run's (sampled pids keep their last
# value in $OUT/pgcpu so a backend that exits mid-phase is not forgotten).
pg_app=""
cpu_ticks() {
	local t
	t=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	if [ -n "$pg_app" ]; then
		local p
		for p in $(psql "$PG_URL" -qAtc "SELECT pid FROM pg_stat_activity WHERE application_name = '$pg_app'" 2>/dev/null); do
			[ -r "/proc/$p/stat" ] && echo "$p $(awk '{print $14 + $15}' "/proc/$p/stat")" >>"$OUT/pgcpu"
		done
		t=$((t + $(awk '{last[$1] = $2} END {s = 0; for (p in last) s += last[p]; print s}' "$OUT/pgcpu" 2>/dev/null || echo 0)))
	fi
	echo "$t"
}

wait_http() { # url
	for _ in $(seq 1 300); do
		curl -fs -o /dev/null "$1" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { say "server exited during start-up"; return 1; }
		sleep 0.1
	done
	say "no answer from $1"
	return 1
}

metric() { # url name → sum of the samples of name
	curl -fs "$1" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 {s += $2} END {printf "%.0f\n", s}'
}

start_system() { # name dir
	local name=$1 dir=$2
	pg_app=""
	: >"$OUT/pgcpu"
	case $name in
	collector)
		OTELCOL_HTTP_ENDPOINT=127.0.0.1:$col_http OTELCOL_GRPC_ENDPOINT=127.0.0.1:$col_grpc OTELCOL_METRICS_PORT=$col_metrics \
			"$OUT/otelcol-bench" --config "$root/bench/otelcol/config.yaml" >"$dir/server.log" 2>&1 &
		pid=$!
		endpoint=http://127.0.0.1:$col_http
		wait_http "http://127.0.0.1:$col_metrics/metrics"
		sleep 0.5 # the receivers start beside the telemetry
		;;
	discard | sqlite | postgres)
		local extra=()
		case $name in
		discard) extra=(--store discard --debug-addr "127.0.0.1:$debug_port") ;;
		postgres)
			schema=lumina_bench_$$_$(date +%s)
			psql "$PG_URL" -qAtc "CREATE SCHEMA $schema" >/dev/null
			pg_app=lumina_bench_$$
			local sep='?'
			case $PG_URL in *\?*) sep='&' ;; esac
			extra=(--database-url "${PG_URL}${sep}search_path=${schema}&application_name=${pg_app}")
			;;
		esac
		"$lumina" serve --data-dir "$dir/data" --ingest-addr "127.0.0.1:$ingest_port" --api-addr "127.0.0.1:$api_port" \
			--otlp-http-addr off --otlp-grpc-addr off --replay-addr off --web-addr off --worker-addr off \
			--daily-trace-limit 0 --judge-provider off --retention-time off --queue-max-bytes "$QUEUE_MAX_BYTES" \
			--log-level warn "${extra[@]}" >"$dir/server.log" 2>&1 &
		pid=$!
		endpoint=http://127.0.0.1:$ingest_port
		wait_http "http://127.0.0.1:$api_port/ready"
		;;
	esac
}

stop_system() {
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=""
	if [ -n "$schema" ]; then
		psql "$PG_URL" -qAtc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null
		schema=""
	fi
}

# run_phase system phase-name offered(spans/s or 0) duration warmup → appends a row to rows.tsv
run_phase() {
	local sys=$1 phase=$2 offered=$3 duration=$4 warmup=$5 dir=$OUT/$1
	local args=(--endpoint "$endpoint" --clients "$CLIENTS" --spans-per-request "$SPANS_PER_REQUEST" --spans-per-trace 1
		--prompt-bytes "$PROMPT_BYTES" --duration "$duration" --warmup "$warmup" --progress 0)
	if [ "$offered" != 0 ]; then
		args+=(--rate "$(awk -v s="$offered" -v n="$SPANS_PER_REQUEST" 'BEGIN {printf "%.3f", s / n}')")
	fi
	case $sys in sqlite | postgres)
		args+=(--api "http://127.0.0.1:$api_port" --verify-sample "$VERIFY_SAMPLE" --verify-timeout "$VERIFY_TIMEOUT") ;;
	esac
	local prof=""
	if [ "$PROFILE" = 1 ] && [ "$sys" = discard ] && [ "$phase" = flat ]; then
		(sleep 4; curl -fs -o "$OUT/discard-cpu.pprof" "http://127.0.0.1:$debug_port/debug/pprof/profile?seconds=10") &
		prof=$!
	fi
	local la c0 c1 rc=0
	la=$(loadavg)
	c0=$(cpu_ticks)
	GOMAXPROCS=1 "$lumina" loadgen "${args[@]}" >"$dir/$phase.txt" 2>&1 || rc=$?
	c1=$(cpu_ticks)
	[ -n "$prof" ] && wait "$prof"
	local spans rate p50 p99 failed verify
	spans=$(awk '$1 == "acked" {print $6}' "$dir/$phase.txt")
	rate=$(awk '$1 == "throughput" {print $2}' "$dir/$phase.txt")
	p50=$(awk '$1 == "latency" {print $3}' "$dir/$phase.txt")
	p99=$(awk '$1 == "latency" {print $7}' "$dir/$phase.txt")
	failed=$(awk '$1 == "failed" {print $2}' "$dir/$phase.txt")
	verify=n/a
	if grep -q 'RESULT' "$dir/$phase.txt"; then
		verify=$(awk '$1 == "stored" {c = $2; m = $4} $1 == "RESULT" {r = $2} END {printf "%s (%s complete, %s missing)", r, c, m}' "$dir/$phase.txt")
	fi
	[ "$rc" = 0 ] || verify="$verify, loadgen exit $rc"
	local cpu_us
	cpu_us=$(awk -v c=$((c1 - c0)) -v t="$tck" -v s="${spans:-0}" 'BEGIN {if (s > 0) printf "%.1f", c / t * 1e6 / s; else print "n/a"}')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sys" "$phase" "$offered" "${rate:-0}" "${p50:-n/a}" "${p99:-n/a}" \
		"$cpu_us" "${spans:-0}" "${failed:-?}" "$verify" "$la" >>"$OUT/rows.tsv"
	say "  $sys $phase: ${rate:-0} spans/s accepted, p50 ${p50:-?} p99 ${p99:-?}, $cpu_us µs CPU/span, ${failed:-?} failed requests, verify: $verify (load before: $la)"
}

: >"$OUT/rows.tsv"
: >"$OUT/systems.tsv"
for sys in $SYSTEMS; do
	dir=$OUT/$sys
	mkdir -p "$dir"
	say "== $sys (load average $(loadavg))"
	start_system "$sys" "$dir"
	first=${STEPS%% *}
	run_phase "$sys" warmup "$first" "$WARMUP" 0s
	for s in $STEPS; do
		run_phase "$sys" "step-$s" "$s" "$STEP_DURATION" 2s
	done
	run_phase "$sys" flat 0 "$FLAT_DURATION" 2s
	hwm=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
	acked=$(awk -F'\t' -v s="$sys" '$1 == s {n += $8} END {print n + 0}' "$OUT/rows.tsv")
	check="n/a"
	case $sys in
	collector)
		got=$(metric "http://127.0.0.1:$col_metrics/metrics" otelcol_receiver_accepted_spans)
		refused=$(metric "http://127.0.0.1:$col_metrics/metrics" otelcol_receiver_refused_spans)
		check="collector accepted $got spans, refused $refused (generator: $acked acked)"
		;;
	discard)
		got=$(metric "http://127.0.0.1:$api_port/metrics" lumina_ingest_items_received_total)
		dropped=$(metric "http://127.0.0.1:$api_port/metrics" lumina_worker_discarded_requests_total)
		body=$(metric "http://127.0.0.1:$api_port/metrics" lumina_queue_published_body_bytes_total)
		stored=$(metric "http://127.0.0.1:$api_port/metrics" lumina_queue_published_stored_bytes_total)
		ratio=$(awk -v b="$body" -v s="$stored" 'BEGIN {if (s > 0) printf "%.2f", b / s; else print "?"}')
		check="ingest received $got spans, worker dropped $dropped requests (generator: $acked acked); the queue stored the bodies ${ratio}x smaller"
		;;
	sqlite)
		got=$(sqlite3 "$dir/data/lumina.db" "SELECT count(*) FROM spans" 2>/dev/null || echo "?")
		check="store holds $got spans (generator: $acked acked)"
		;;
	postgres)
		got=$(psql "$PG_URL" -qAtc "SELECT count(*) FROM $schema.spans" 2>/dev/null || echo "?")
		check="store holds $got spans (generator: $acked acked)"
		;;
	esac
	say "  $sys: peak RSS $hwm MiB; $check"
	printf '%s\t%s\t%s\n' "$sys" "$hwm" "$check" >>"$OUT/systems.tsv"
	stop_system
done

# --- the table ----------------------------------------------------------------------------
{
	echo "Side-by-side ingest: $(nproc) CPUs, load average at the end $(loadavg); $CLIENTS clients, $SPANS_PER_REQUEST spans/request, 1 span/trace, ~$PROMPT_BYTES B prompt text/span, OTLP/HTTP protobuf"
	echo
	echo "| system | phase | offered spans/s | accepted spans/s | p50 | p99 | CPU µs/span | failed req | verify | load before |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' '{off = ($3 == 0) ? "flat out" : $3; printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, off, $4, $5, $6, $7, $9, $10, $11}' "$OUT/rows.tsv"
	echo
	echo "Flat out, as ratios to the collector (throughput and RSS: higher/lower is better respectively; CPU/span: lower is better):"
	echo
	echo "| system | accepted spans/s | × collector | p99 | × collector | CPU µs/span | × collector | peak RSS MiB | × collector |"
	echo "|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' '
		FNR == NR { rss[$1] = $2; next }
		$2 == "flat" { sys[++n] = $1; rate[$1] = $4; p99[$1] = $6 + 0; cpu[$1] = $7 + 0 }
		END {
			c = "collector"
			for (i = 1; i <= n; i++) {
				s = sys[i]
				r = (c in rate && rate[c] > 0) ? sprintf("%.2f", rate[s] / rate[c]) : "-"
				l = (c in p99 && p99[c] > 0) ? sprintf("%.2f", p99[s] / p99[c]) : "-"
				u = (c in cpu && cpu[c] > 0) ? sprintf("%.2f", cpu[s] / cpu[c]) : "-"
				m = (c in rss && rss[c] > 0) ? sprintf("%.2f", rss[s] / rss[c]) : "-"
				printf "| %s | %s | %s | %sms | %s | %s | %s | %s | %s |\n", s, rate[s], r, p99[s], l, cpu[s], u, rss[s], m
			}
		}' "$OUT/systems.tsv" "$OUT/rows.tsv"
	echo
	awk -F'\t' '{printf "- %s: peak RSS %s MiB; %s\n", $1, $2, $3}' "$OUT/systems.tsv"
} | tee "$OUT/results.md"
say "total time $(( $(date +%s) - t0 )) s; results in $OUT/results.md"
