#!/usr/bin/env bash
# Run every libFuzzer target in build-fuzz/fuzz/ for N seconds each.
#
#   scripts/fuzz.sh [seconds]      (default 30; build first: scripts/build.sh fuzz)
#
# Target build-fuzz/fuzz/fuzz_NAME starts from the committed seed corpus
# fuzz/corpus/NAME/, copied to a scratch dir so that inputs the fuzzer adds
# never land in the tree. Crash/leak/timeout reproducers are kept in
# build-fuzz/artifacts/NAME/. Exits non-zero if any target fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

secs=${1:-30}
if ! [[ "$secs" =~ ^[0-9]+$ ]] || ((secs == 0)); then
	echo "usage: $0 [seconds]" >&2
	exit 2
fi

BUILD=build-fuzz
if [[ ! -d "$BUILD" ]]; then
	echo "fuzz.sh: $BUILD/ not found; run scripts/build.sh fuzz first" >&2
	exit 1
fi

targets=()
for bin in "$BUILD"/fuzz/fuzz_*; do
	[[ -f "$bin" && -x "$bin" ]] && targets+=("$bin")
done
if ((${#targets[@]} == 0)); then
	echo "fuzz.sh: WARNING: no fuzz targets in $BUILD/fuzz/ (nothing fuzzed)"
	exit 0
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/conclave-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

failed=()
for bin in "${targets[@]}"; do
	exe=$(basename "$bin")
	name=${exe#fuzz_}
	corpus="$scratch/$name"
	artifacts="$BUILD/artifacts/$name"
	mkdir -p "$corpus" "$artifacts"
	if [[ -d "fuzz/corpus/$name" ]]; then
		cp -R "fuzz/corpus/$name/." "$corpus/"
	else
		echo "fuzz.sh: note: no seed corpus fuzz/corpus/$name/"
	fi
	args=(-max_total_time="$secs" -timeout=10 -print_final_stats=1
	      -artifact_prefix="$artifacts/")
	[[ -f "fuzz/$name.dict" ]] && args+=(-dict="fuzz/$name.dict")

	echo "=== fuzz $name: ${secs}s, $(find "$corpus" -type f | wc -l) seeds"
	# The outer timeout only guards against a fuzzer that ignores
	# -max_total_time (e.g. stuck in one input); it is never hit normally.
	if timeout -k 10 $((secs + 120)) "$bin" "${args[@]}" "$corpus" \
		>"$scratch/$name.log" 2>&1; then
		tail -n 12 "$scratch/$name.log" | grep -E '^(stat::|Done)' || true
		echo "=== fuzz $name: ok"
	else
		rc=$?
		tail -n 60 "$scratch/$name.log"
		echo "=== fuzz $name: FAILED (exit $rc); reproducers in $artifacts/"
		failed+=("$name")
	fi
done

if ((${#failed[@]})); then
	echo "fuzz.sh: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz.sh: all ${#targets[@]} targets ran ${secs}s without a failure"
