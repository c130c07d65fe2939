#!/usr/bin/env bash
# Load benchmark of `karmada-takeover serve`: the server pinned to one core (taskset -c 0), wrk
# pinned to another (taskset -c 1), keep-alive connections, fixed AdmissionReview bodies.
#
#   scripts/loadbench.sh            # 10 s per run
#   DURATION=30s scripts/loadbench.sh
#   CONNS=16 PAYLOADS=policy scripts/loadbench.sh   # one row only
#   BIN=/path/to/karmada-takeover scripts/loadbench.sh   # another build (A/B)
#   CEILING=0 scripts/loadbench.sh                  # without the ceiling rows
#
# Prints one table row per (connections, payload) and the server's resident memory at idle and
# under load. Loopback only. Needs: wrk (installed with apt-get when missing), cargo, taskset.
#
# After each row, a "ceiling" row: the same server code (examples/loadbench_ceiling.rs: rustls,
# hyper, connection handling, limits, metrics, log event) answering every review with the fixed
# answer to that payload, without decoding it or deciding: what the TLS/HTTP stack alone serves
# on this core. The summary quotes each payload's rate as a fraction of its ceiling.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-1}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT=${PORT:-18443}
ADMIN_PORT=${ADMIN_PORT:-18080}
CEILING_PORT=${CEILING_PORT:-18444}
CEILING_ADMIN_PORT=${CEILING_ADMIN_PORT:-18081}
CEILING=${CEILING:-1}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# Scheduling priority of the server and wrk (root only below 0). On a shared machine, e.g.
# NICE=-15 keeps concurrent builds from taking the pinned cores; the table shows the core share
# the server actually got.
NICE=${NICE:-0}
CONNS=${CONNS:-1 16}
PAYLOADS=${PAYLOADS:-policy deployment}
if [[ "$NICE" != 0 && -w /proc/self/autogroup ]]; then
  # With CONFIG_SCHED_AUTOGROUP, nice only ranks processes inside their session's group; the
  # group's own weight is what competes with other sessions (their builds).
  echo "$NICE" >/proc/self/autogroup 2>/dev/null || true
fi

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

# The profile the Dockerfile ships (Cargo.toml: fat LTO, one codegen unit); PROFILE=release to
# compare.
PROFILE=${PROFILE:-production}
# BIN=path measures a given build instead (e.g. an older commit's, for an A/B in one series).
if [[ -z ${BIN:-} ]]; then
  cargo build --profile "$PROFILE" --quiet --bin karmada-takeover
  BIN="$TARGET_DIR/$PROFILE/karmada-takeover"
fi
# The ceiling server is built from this tree (CEILING_BIN=path to use another build).
if [[ "$CEILING" == 1 && -z ${CEILING_BIN:-} ]]; then
  cargo build --profile "$PROFILE" --quiet --example loadbench_ceiling
  CEILING_BIN="$TARGET_DIR/$PROFILE/examples/loadbench_ceiling"
fi

WORK=$(mktemp -d)
SERVER_PID=
CEILING_PID=
cleanup() {
  for pid in $SERVER_PID $CEILING_PID; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# Throwaway certificate (no key material is kept).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$WORK/tls.key" -out "$WORK/tls.crt" >/dev/null 2>&1

# examples/fleet, except that shop/frontend runs in member1 and member2 as the Deployment review
# applies it: the review is a takeover the restart guard admits (equal pod templates).
FLEET=${FLEET:-scripts/loadbench/fleet}
FLEET_ARGS=(--fleet "$FLEET")

# Logs go to a file: one event per review stays on (info), as in production.
RUST_LOG=${RUST_LOG:-info} nice -n "$NICE" taskset -c "$SERVER_CPU" "$BIN" serve \
  --listen "127.0.0.1:$PORT" --admin-listen "127.0.0.1:$ADMIN_PORT" \
  --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" "${FLEET_ARGS[@]}" \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

if [[ "$CEILING" == 1 ]]; then
  RUST_LOG=${RUST_LOG:-info} nice -n "$NICE" taskset -c "$SERVER_CPU" "$CEILING_BIN" \
    --listen "127.0.0.1:$CEILING_PORT" --admin-listen "127.0.0.1:$CEILING_ADMIN_PORT" \
    --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" --fleet "$FLEET" \
    --answer /validate/policy=scripts/loadbench/policy-review.json \
    --answer /mutate/workload=scripts/loadbench/deployment-review.json \
    >"$WORK/ceiling.log" 2>&1 &
  CEILING_PID=$!
fi

wait_ready() { # admin-port pid log
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$1/readyz" >/dev/null 2>&1; then break; fi
    sleep 0.05
  done
  curl -fsS "http://127.0.0.1:$1/readyz" >/dev/null
  if ! kill -0 "$2" 2>/dev/null; then
    # Ready answered, but not from our server (another one on the ports?).
    echo "a server exited at startup (ports in use? PORT=/ADMIN_PORT=/CEILING_PORT=/CEILING_ADMIN_PORT= change them):" >&2
    cat "$3" >&2
    exit 1
  fi
}
wait_ready "$ADMIN_PORT" "$SERVER_PID" "$WORK/server.log"
if [[ "$CEILING" == 1 ]]; then wait_ready "$CEILING_ADMIN_PORT" "$CEILING_PID" "$WORK/ceiling.log"; fi

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/${1:-$SERVER_PID}/status"; }
# utime + stime of a server, in clock ticks (USER_HZ, normally 100).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
IDLE_RSS=$(rss_kb)
PEAK_RSS=$IDLE_RSS

RATIOS=()
run() { # connections payload path [ceiling]
  local conns=$1 payload=$2 path=$3 ceiling=${4:-} out
  local port=$PORT pid=$SERVER_PID label="$payload $path"
  if [[ -n "$ceiling" ]]; then port=$CEILING_PORT pid=$CEILING_PID label="ceiling: fixed answer, $path"; fi
  BODY_FILE="scripts/loadbench/$payload" nice -n "$NICE" taskset -c "$CLIENT_CPU" wrk -t"$THREADS" -c"$conns" -d"$WARMUP" \
    -s scripts/loadbench/post.lua "https://127.0.0.1:$port$path" >/dev/null
  local t0; t0=$(cpu_ticks "$pid")
  local wall0; wall0=$(date +%s%N)
  out=$(BODY_FILE="scripts/loadbench/$payload" nice -n "$NICE" taskset -c "$CLIENT_CPU" wrk -t"$THREADS" -c"$conns" -d"$DURATION" \
    --latency -s scripts/loadbench/post.lua "https://127.0.0.1:$port$path" &
    sleep 3; rss_kb "$pid" >"$WORK/rss"; wait)
  local t1; t1=$(cpu_ticks "$pid")
  local wall_ms; wall_ms=$(( ($(date +%s%N) - wall0) / 1000000 ))
  local rss; rss=$(cat "$WORK/rss")
  if [[ -z "$ceiling" ]]; then (( rss > PEAK_RSS )) && PEAK_RSS=$rss; fi
  local rps p50 p99 non200
  rps=$(sed -n 's/^rps=//p' <<<"$out"); p50=$(sed -n 's/^p50_us=//p' <<<"$out")
  p99=$(sed -n 's/^p99_us=//p' <<<"$out"); non200=$(sed -n 's/^non_200=//p' <<<"$out")
  local requests; requests=$(sed -n 's/^requests=//p' <<<"$out")
  # Server CPU per request and the share of its core it got: below ~95% at 16 connections means
  # something else (the client, another process) was the bottleneck, not the server.
  local cpu_us util
  cpu_us=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$requests" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')
  util=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v ms="$wall_ms" 'BEGIN {printf "%.0f", 100 * t / hz / (ms / 1000)}')
  printf '| %-40s | %5s | %8s | %8s | %8s | %7s | %11s | %8s | %8s |\n' \
    "$label" "$conns" "$rps" "$p50" "$p99" "$non200" "$cpu_us" "$util" "$((rss / 1024))"
  if [[ -n "$ceiling" ]]; then
    RATIOS+=("$payload $path, $conns conns: $LAST_RPS / $rps req/s = $(awk -v a="$LAST_RPS" -v b="$rps" 'BEGIN {printf "%.2f", a / b}') of the ceiling")
  fi
  LAST_RPS=$rps
}

echo
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); $(date -u +%Y-%m-%dT%H:%MZ)"
echo "server: nice -n $NICE taskset -c $SERVER_CPU $BIN serve ${FLEET_ARGS[*]}; client: nice -n $NICE taskset -c $CLIENT_CPU wrk -t$THREADS -d$DURATION --latency"
echo "payloads: policy-review.json $(stat -c %s scripts/loadbench/policy-review.json) B, deployment-review.json $(stat -c %s scripts/loadbench/deployment-review.json) B"
echo
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg) (anything but the server and wrk skews the figures)"
echo
echo "| payload                                  | conns |    req/s | p50 (µs) | p99 (µs) | non-200 | CPU µs/req | core use | RSS (MB) |"
echo "|------------------------------------------|-------|----------|----------|----------|---------|------------|----------|----------|"
for conns in $CONNS; do
  for payload in $PAYLOADS; do
    case $payload in
      policy) path=/validate/policy ;;
      deployment) path=/mutate/workload ;;
      *) echo "PAYLOADS: unknown payload $payload (policy, deployment)" >&2; exit 2 ;;
    esac
    run "$conns" "$payload-review.json" "$path"
    if [[ "$CEILING" == 1 ]]; then run "$conns" "$payload-review.json" "$path" ceiling; fi
  done
done
echo
for ratio in "${RATIOS[@]}"; do echo "ratio to the ceiling: $ratio"; done
echo "RSS idle (after startup): $((IDLE_RSS / 1024)) MB ($IDLE_RSS kB); peak sampled under load: $((PEAK_RSS / 1024)) MB ($PEAK_RSS kB)"
echo "log lines written by the server: $(wc -l <"$WORK/server.log")"
