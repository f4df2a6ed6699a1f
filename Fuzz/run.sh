#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for SECONDS (default 30).
#
#   Fuzz/run.sh [SECONDS] [TARGET...]
#
# Targets: FuzzLineDecoder, FuzzWireCodec, FuzzChangeCodec, FuzzAuthorName (all by default).
#
# The build has its own scratch path (.build-fuzz), so the sanitizer flags never touch the
# project's .build. Seeds come from Protocol/vectors/ (Fuzz/make-corpus.py); the corpus in
# .build-fuzz/corpus/<target> grows across runs. A crash, a hang (over 10 s on one input) or an
# allocation over 512 MiB stops the target, leaves the input in .build-fuzz/artifacts/<target>/
# and makes the script exit 1: fix it in the core and keep the input as a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzLineDecoder FuzzWireCodec FuzzChangeCodec FuzzAuthorName)
scratch=.build-fuzz
# libFuzzer reports a crash itself (and saves the input); Swift's backtracer would only slow it
# down, and with ASan it can hang.
export SWIFT_BACKTRACE=enable=no

started=$(date +%s)
# SwiftPM notices files added to or removed from this package's targets, but not the main
# package's (a path dependency): drop the cached build plan so a new core file is compiled in.
rm -f "$scratch/release.yaml" "$scratch"/*/release/description.json
# One product at a time: a plain `swift build` here would also build every dependency of the
# main package (BoringSSL, SQLite...), which the targets do not need.
for target in "${targets[@]}"; do
  swift build --package-path Fuzz --scratch-path "$scratch" -c release -Xswiftc -sanitize=fuzzer,address --product "$target"
done
echo "fuzz build: $(( $(date +%s) - started )) s"
bin=$(swift build --package-path Fuzz --scratch-path "$scratch" -c release --show-bin-path)

python3 Fuzz/make-corpus.py Protocol/vectors "$scratch/corpus"

failed=0
for target in "${targets[@]}"; do
  mkdir -p "$scratch/artifacts/$target"
  dict=()
  case "$target" in FuzzWireCodec|FuzzChangeCodec) dict=(-dict=Fuzz/json.dict) ;; esac
  echo "== $target for ${seconds} s"
  if ! "$bin/$target" "$scratch/corpus/$target" "${dict[@]}" \
      -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
      -print_final_stats=1 -artifact_prefix="$scratch/artifacts/$target/" 2>"$scratch/$target.log"; then
    failed=1
    echo "$target FAILED: see $scratch/$target.log and $scratch/artifacts/$target/"
    grep -A30 -m1 -E "ERROR|Fatal error|Precondition failed|==[0-9]+==" "$scratch/$target.log" || tail -30 "$scratch/$target.log"
  fi
  grep -E "^(Done|stat::number_of_executed_units|stat::new_units_added)" "$scratch/$target.log" || true
done
exit $failed
