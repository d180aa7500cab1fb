#!/usr/bin/env bash
# kmsd_http.sh -- run the real conclave-kmsd on loopback against a fresh
# store and check its HTTP(S) layer (tests/kmsd_http.py has the checks).
#
# usage: bash tests/kmsd_http.sh <path-to-conclave> <build>/tests
# The daemon is <build>/conclave-kmsd, next to the conclave binary.
set -euo pipefail

CONCLAVE=${1:?usage: kmsd_http.sh <conclave> <build-dir>/tests}
KMSD=$(dirname "$CONCLAVE")/conclave-kmsd
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d "${2:-/tmp}/kmsd_http.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Under -DCONCLAVE_SANITIZE=ON: leaks and UB fail the daemon's exit status.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=131}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:exitcode=132}

if [ ! -x "$KMSD" ]; then
	echo "FAIL: $KMSD not built" >&2
	exit 1
fi

# A fresh store and master key, made by the administration CLI.
echo "- creating a store: conclave kms init --create-master-key"
if ! "$CONCLAVE" kms --db "sqlite:$WORK/kms.db" \
	--master-key-file "$WORK/master.key" init --create-master-key \
	>"$WORK/init.log" 2>&1; then
	cat "$WORK/init.log" >&2
	echo "FAIL: conclave kms init could not create the store" >&2
	exit 1
fi

timeout 240 python3 "$HERE/kmsd_http.py" "$KMSD" "$CONCLAVE" "$WORK"
