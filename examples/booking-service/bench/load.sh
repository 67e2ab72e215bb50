#!/usr/bin/env bash
# Load benchmark: check_availability on the full stack vs a bare axum route
# returning a same-sized JSON, with wrk at concurrency 64, in the same run.
#
#   examples/booking-service/bench/load.sh            # 10 s per target
#   DURATION=30s examples/booking-service/bench/load.sh
#
# Needs `wrk` (apt-get install wrk). Report both figures and the ratio.
set -euo pipefail
cd "$(dirname "$0")/../../.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p booking-service --bin booking-service --example bare_route
BIN="$CARGO_TARGET_DIR/release"
# A weekday at least two days ahead, where the demo has 10:00 blocked.
BENCH_DATE=$(python3 -c 'import datetime as d
t=d.date.today()+d.timedelta(days=2)
while t.weekday()>4: t+=d.timedelta(days=1)
print(t.strftime("%d.%m.%Y"))')
export BENCH_DATE

RUST_LOG=warn BOOKING_BIND=127.0.0.1:18180 BOOKING_ADMIN_BIND=off "$BIN/booking-service" >/dev/null &
SERVICE=$!
BOOKING_BIND=127.0.0.1:18181 "$BIN/examples/bare_route" >/dev/null &
BARE=$!
trap 'kill $SERVICE $BARE 2>/dev/null || true' EXIT
sleep 1

LUA=examples/booking-service/bench/check_availability.lua
echo "== full stack (check_availability) =="
FULL=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$LUA" http://127.0.0.1:18180 | tee /dev/stderr | grep RESULT)
echo "== bare axum route (same-sized JSON) =="
BARE_R=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$LUA" http://127.0.0.1:18181 | tee /dev/stderr | grep RESULT)
rps() { sed -E 's/.*req_per_s=([0-9]+).*/\1/' <<<"$1"; }
echo "full: $FULL"
echo "bare: $BARE_R"
python3 -c "print(f'ratio full/bare = {$(rps "$FULL")/$(rps "$BARE_R"):.3f}')"
