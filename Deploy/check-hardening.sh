#!/usr/bin/env bash
# Checks that clustersyncd works under two of the unit's hardening options that a unit file
# check cannot vouch for (Deploy/clustersyncd@.service), without systemd: it runs a server and a
# practice's sync (push and pull over TLS, token) with
#   MemoryDenyWriteExecute=yes  as the kernel's prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN),
#                               inherited by every process (needs Linux 6.3 or later), and
#   ProcSubset=pid, ProtectProc=invisible  as /proc mounted with subset=pid,hidepid=invisible in a
#                               private PID and mount namespace (needs root, for unshare).
# Usage: sudo Deploy/check-hardening.sh [BIN_DIR]   (needs cc)
# BIN_DIR holds clustersyncd and clustersync: by default .build/debug in a checkout, else the
# folder of the installed clustersyncd on the PATH (a node).
# Then, with systemd: systemd-analyze verify and systemd-analyze security (Deploy/README.md).
set -euo pipefail
default_bin() {
    if [ -x .build/debug/clustersyncd ]; then echo .build/debug
    elif command -v clustersyncd >/dev/null; then dirname "$(command -v clustersyncd)"
    else echo "check-hardening.sh: no clustersyncd in .build/debug or on the PATH: give the folder holding clustersyncd and clustersync" >&2; exit 1
    fi
}
BIN_DIR=${1:-}
[ -n "$BIN_DIR" ] || BIN_DIR=$(default_bin)
BIN=$(cd "$BIN_DIR" && pwd)
for program in clustersyncd clustersync; do
    [ -x "$BIN/$program" ] || { echo "check-hardening.sh: no $program in $BIN" >&2; exit 1; }
done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cat >"$WORK/mdwe.c" <<'C'
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>
#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif
int main(int argc, char **argv) {
    if (argc < 2) return 2;
    if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0) { perror("prctl(PR_SET_MDWE)"); return 111; }
    /* The check itself must be able to fail: a writable and executable mapping is now refused. */
    if (mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED) {
        fprintf(stderr, "PR_SET_MDWE is not in force\n"); return 113;
    }
    execv(argv[1], argv + 1); perror("execv"); return 112;
}
C
cc -O2 -o "$WORK/mdwe" "$WORK/mdwe.c"

cat >"$WORK/run.sh" <<'SH'
set -euo pipefail
cd "$WORK"
mount -t proc -o subset=pid,hidepid=invisible proc /proc
[ ! -e /proc/cpuinfo ] || { echo "subset=pid not in force"; exit 1; }
csd() { "$WORK/mdwe" "$BIN/clustersyncd" "$@" --data "$WORK/data"; }
cs() { "$WORK/mdwe" "$BIN/clustersync" "$@"; }
csd init >/dev/null
csd tenant add bcuhb >/dev/null
csd cluster add --tenant bcuhb north-denbighshire >/dev/null
csd practice add --tenant bcuhb --cluster north-denbighshire prestatyn >/dev/null
csd credential issue --tenant bcuhb --cluster north-denbighshire --practice prestatyn --label check >token
"$WORK/mdwe" "$BIN/clustersyncd" serve --data "$WORK/data" --port 0 >serve.out 2>serve.err &
server=$!
for _ in $(seq 100); do grep -q "listening on" serve.out 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' serve.out | head -1)
cs init --replica r.sqlite --tenant bcuhb --cluster north-denbighshire --practice prestatyn --name "Check" >/dev/null
cs remote set --replica r.sqlite "127.0.0.1:$port" --ca data/ca.pem --token-file token >/dev/null
cs risk add --replica r.sqlite title="Hardening check" likelihood=2 consequence=2 category=workforce >/dev/null
cs sync --replica r.sqlite
csd health
csd backup --to backup.sqlite
kill -TERM "$server"
wait "$server"
echo "clustersyncd ran, served a sync, checked its health, backed up and drained under MDWE and /proc subset=pid"
SH
export WORK BIN
unshare --pid --fork --mount bash "$WORK/run.sh"
