#!/bin/bash
# demo.sh -- `conclave demo` (issue 5 §3), the README's main command, end
# to end with the real conclave-kmsd and conclave-confd: it must exit 0,
# and its verdict table must say that Mallory was refused with 403, that
# everyone heard everyone else, that Carol's row holds nothing under the
# epoch created after her leave, and nobody heard itself. Also: --help,
# no key-like hex in the output, the temp dir removed, no child left.
#
# usage: demo.sh <conclave-binary> <build>/tests
# exit 77 (skip) if conclave-kmsd or conclave-confd is missing.
set -u

CONCLAVE=$1
BUILD=$(dirname "$CONCLAVE")
for b in "$BUILD/conclave-kmsd" "$BUILD/conclave-confd"; do
	if [ ! -x "$b" ]; then
		echo "skip: need $b"
		exit 77
	fi
done

FAIL=0
OUT=$(mktemp /tmp/demo-test.XXXXXX)
trap 'rm -f "$OUT"' EXIT
fail() {
	echo "FAIL: $*"
	FAIL=1
}
ok() { echo "ok $*"; }

"$CONCLAVE" demo --help | grep -q -- "--seconds-per-step" &&
	ok "demo --help" || fail "demo --help"

start=$(date +%s)
timeout 90 "$CONCLAVE" demo --seconds-per-step 3 >"$OUT" 2>&1
rc=$?
took=$(($(date +%s) - start))
cat "$OUT"
echo "---"
[ $rc = 0 ] && ok "conclave demo exit 0 (${took} s)" || fail "exit $rc"
[ "$took" -lt 60 ] && ok "under a minute" || fail "took $took s"

grep -q "mallory refused by the focus: status 403" "$OUT" &&
	ok "timeline: mallory refused with 403" || fail "no 403 in the timeline"
grep -Eq "^  mallory +refused \(status 403\)" "$OUT" &&
	ok "table: mallory refused (status 403)" || fail "mallory row"
grep -q "^verdict: PASS" "$OUT" && ok "verdict PASS" || fail "no PASS"
grep -q "FAIL" "$OUT" && fail "a check failed"

# the epoch Carol's leave created, from "carol's leave epoch A -> B (...)"
LEAVE=$(sed -n "s/.*carol's leave epoch [0-9]* -> \([0-9]*\) .*/\1/p" "$OUT")
DAVE=$(sed -n "s/.*dave's join  epoch [0-9]* -> \([0-9]*\) .*/\1/p" "$OUT")
if [ -z "$LEAVE" ] || [ -z "$DAVE" ]; then
	fail "no rekey epochs in the table"
	LEAVE=999 DAVE=999
else
	ok "rekeys: dave's join -> epoch $DAVE, carol's leave -> epoch $LEAVE"
fi
# rows: listener, then one cell per speaker (alice bob carol dave)
row() { grep -E "^  $1 +(-|heard)" "$OUT" | head -1; }
for n in alice bob carol dave; do
	r=$(row $n)
	[ -n "$r" ] || fail "no row for $n"
	# its own column is "-", the three others "heard (...)"
	[ "$(echo "$r" | grep -o 'heard (' | wc -l)" = 3 ] &&
		ok "$n heard the three others" || fail "$n row: $r"
done
CAROL=$(row carol)
if echo "$CAROL" | grep -Eq "[(,]$LEAVE[,)]"; then
	fail "carol's row shows epoch $LEAVE: $CAROL"
else
	ok "carol's row shows nothing under epoch $LEAVE"
fi
for n in alice bob dave; do
	row $n | grep -Eq "[(,]$LEAVE[,)]" && ok "$n heard under epoch $LEAVE" ||
		fail "$n nothing under epoch $LEAVE"
done
grep -q "carol never held epoch $LEAVE .* received 0 packet" "$OUT" &&
	ok "carol: 0 packets under epoch $LEAVE" || fail "carol check line"

if grep -Eqi '[0-9a-f]{32}' "$OUT"; then
	fail "output holds something key-like"
else
	ok "no key material in the output"
fi
dir=$(sed -n 's/^work dir //p' "$OUT")
[ -n "$dir" ] && [ ! -e "$dir" ] && ok "temp dir $dir removed" ||
	fail "temp dir '$dir' left"

# Ctrl-C: SIGINT mid-run ends every child and removes the temp dir
"$CONCLAVE" demo >"$OUT" 2>&1 &
DPID=$!
for _ in $(seq 1 100); do
	grep -q "step 3" "$OUT" && break
	sleep 0.1
done
kids=$(pgrep -P $DPID | tr '\n' ' ')
kill -INT $DPID
wait $DPID
rc=$?
dir=$(sed -n 's/^work dir //p' "$OUT")
[ $rc != 0 ] && ok "interrupted demo exit $rc" || fail "interrupted exit 0"
left=
for k in $kids; do
	kill -0 "$k" 2>/dev/null && left="$left $k"
done
[ -z "$left" ] && [ -n "$kids" ] && ok "children ($kids) gone after Ctrl-C" ||
	fail "children left:$left (had: $kids)"
[ -n "$dir" ] && [ ! -e "$dir" ] && ok "temp dir removed after Ctrl-C" ||
	fail "temp dir '$dir' left after Ctrl-C"

if [ $FAIL = 0 ]; then
	echo "all demo checks passed"
	exit 0
fi
exit 1
