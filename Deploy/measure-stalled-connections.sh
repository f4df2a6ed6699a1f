#!/usr/bin/env bash
# Measures what stalled unauthenticated connections cost clustersyncd (Protocol/PROTOCOL.md §10):
# its resident memory with N connections that finished TLS and then sent just under the
# pre-welcome allowance (16 KiB) without a newline, the worst an unauthenticated client may do
# while its hello timeout runs; and how long a practice's sync takes while they are held.
# Loopback only. Usage: Deploy/measure-stalled-connections.sh [N] [BIN_DIR]   (N defaults to 1000;
# BYTES=0 in the environment measures connections that send nothing after TLS.)
set -euo pipefail
N=${1:-1000}
BYTES=${BYTES:-16383}
BIN=${2:-.build/debug}
ulimit -n $((N + 1024))
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; kill $HOLDER 2>/dev/null || true; rm -rf "$WORK"' EXIT
csd() { "$BIN/clustersyncd" "$@" --data "$WORK/data"; }
cs() { "$BIN/clustersync" "$@"; }

csd init --hostname localhost >/dev/null
csd tenant add bench >/dev/null
csd cluster add --tenant bench c1 >/dev/null
csd practice add --tenant bench --cluster c1 p1 >/dev/null
csd credential issue --tenant bench --cluster c1 --practice p1 --label "Bench" >"$WORK/token"

# The stalled connections must outlive the measurement: a long hello timeout.
CLUSTERSYNCD_LIMITS_HELLO_TIMEOUT_SECONDS=600 LOG_LEVEL=warning \
    "$BIN/clustersyncd" serve --data "$WORK/data" --port 0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/serve.out" | head -1)
rss() { awk '/VmRSS/ {print $2}' /proc/$SERVER/status; }

cs init --replica "$WORK/r.sqlite" --tenant bench --cluster c1 --practice p1 --name "Bench" >/dev/null
cs remote set --replica "$WORK/r.sqlite" "localhost:$PORT" --ca "$WORK/data/ca.pem" --token-file "$WORK/token" >/dev/null
timed_sync() {
    cs risk add --replica "$WORK/r.sqlite" title="Locum cover $1" likelihood=3 consequence=4 category=workforce >/dev/null
    local start end
    start=$(date +%s%N)
    cs sync --replica "$WORK/r.sqlite" >/dev/null
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}
timed_sync warm-up >/dev/null
BASE_RSS=$(rss)
BASE_SYNC=$(timed_sync before)

python3 - "$PORT" "$N" "$WORK/data/ca.pem" "$WORK/held" "$BYTES" <<'PY' &
import socket, ssl, sys, time, os
port, n, ca, flag, size = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
context = ssl.create_default_context(cafile=ca)
held = []
for i in range(n):
    s = context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
    if size: s.sendall(b"x" * size)  # by default just under maxBytesBeforeWelcome, no newline
    held.append(s)
open(flag, "w").write(str(len(held)))
time.sleep(600)
PY
HOLDER=$!
for _ in $(seq 1200); do [ -f "$WORK/held" ] && break; sleep 0.1; done
sleep 2
HELD_RSS=$(rss)
HELD_SYNC=$(timed_sync held)
echo "stalled connections: $(cat "$WORK/held") (TLS done, $BYTES bytes each, no newline)"
echo "server RSS: ${BASE_RSS} KiB before, ${HELD_RSS} KiB with them held (+$(((HELD_RSS - BASE_RSS) / 1024)) MiB, $(((HELD_RSS - BASE_RSS) / N)) KiB per connection)"
echo "a practice's sync (push 1, pull): ${BASE_SYNC} ms before, ${HELD_SYNC} ms with them held"
echo "bound: N x (maxBytesBeforeWelcome 16 KiB + one TLS read <= 64 KiB + per-connection TLS/NIO state)"
grep -c . "$WORK/serve.err" >/dev/null && echo "server log lines at warning and above: $(wc -l <"$WORK/serve.err")"
