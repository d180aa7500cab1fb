#!/bin/bash
# confd_storm.sh -- the join storm of issue 5 §4, against the real
# conclave-kmsd and conclave-confd on loopback: "200 members join within
# 2 s with min-rekey-interval = 1 s: at most 3 rekeys, and everyone ends
# on the same epoch."
#
# The driver is `conclave bench confd --storm 200` (apps/conclave/
# bench_confd*.c): it makes the KMS store (a creator, 15 member
# identities, the focus user with the factory URI, key supplier), starts
# kmsd and confd (`policy rekey-on=join,leave`, `policy
# min-rekey-interval=1000`, grace 1 s, ack-deadline 5 s), creates the
# conference, fetches one ticket per joiner (not part of the storm), and
# waits until the creation's epochs are switched and quiet for 1.5 s, so
# the storm's first join finds no rekey within min-rekey-interval behind
# it (the worst case for the count). Then it sends the 200 INVITEs evenly
# over 1.5 s from one process (many UAs; the creation ticket names at
# most 16 responders, so joiners share the 15 identities, each with its
# own ticket, CSB and dialog), answers every re-INVITE (CSB update), and
# waits until confd's newest epoch is switched and nothing changes for
# 1.5 s (a rekey still due would have started by then).
#
# What the test asserts:
#   - 200 joins got 200 OK (and were ACKed), none failed, and the storm
#     took < 2 s from the first INVITE sent to the last ACK sent;
#   - rekeys caused by the storm <= 3. What is counted: the NEW_EPOCH
#     lines ("conference F: epoch E (MKI 0x...) created") confd wrote
#     after the storm's first INVITE (its log from the offset the driver
#     took just before it) up to the settled end. Each such line is one
#     rekey started by the core (a new group key rolled out by re-INVITE
#     to every member). Nothing else happens in that time (no leave, no
#     epoch-age timer), so every one is caused by the storm. Counted here
#     from the log itself and by the driver; both must agree, and the
#     SWITCH_MKI lines in the same span must number the same (each rekey
#     completed);
#   - every member (the creator and the 200 joiners) holds, as its newest
#     group key, the MKI of confd's newest epoch; nobody was removed;
#   - the whole test takes < 60 s.
#
# usage: confd_storm.sh <conclave-binary> <build>/tests
# exit 77 (skip) only if a binary is missing.
set -u

CONCLAVE=$(readlink -m -- "$1")
TESTS=$2
BUILD=$(readlink -m -- "$(dirname "$TESTS")")
KMSD=$BUILD/conclave-kmsd
CONFD=$BUILD/conclave-confd
N=200
WINDOW=2
MAX_REKEYS=3

for b in "$CONCLAVE" "$KMSD" "$CONFD"; do
	if [ ! -x "$b" ]; then
		echo "skip: need $b"
		exit 77
	fi
done

W=$(mktemp -d /tmp/confdstorm.XXXXXX)
FAIL=0

cleanup() {
	if [ "$FAIL" = 0 ]; then
		rm -rf "$W" # the driver's dir (--keep) is inside
	else
		echo "kept $W"
	fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	FAIL=1
}
ok() { echo "ok $*"; }

T0=$SECONDS
TMPDIR=$W timeout 55 "$CONCLAVE" bench confd --storm $N \
	--storm-window $WINDOW --kmsd "$KMSD" --confd "$CONFD" --keep \
	>"$W/storm.out" 2>"$W/storm.err"
RC=$?
if [ $RC != 0 ]; then
	fail "driver exited $RC"
	cat "$W/storm.err"
	exit 1
fi
v() { sed -n "s/^storm\.$1=//p" "$W/storm.out"; }
grep -v '^member ' "$W/storm.out"

# ---- joins -----------------------------------------------------------------
[ "$(v joins_ok)" = $N ] && [ "$(v joins_failed)" = 0 ] &&
	ok "$N joins got 200 OK" ||
	fail "joins: $(v joins_ok) ok, $(v joins_failed) failed" \
		"(last status $(v last_fail_status))"
[ "$(v confd_joined)" = $N ] && ok "confd saw $N joins done" ||
	fail "confd logged $(v confd_joined) joins done, not $N"
SPAN=$(v join_span_ms)
awk -v s="$SPAN" -v w=$WINDOW 'BEGIN { exit !(s > 0 && s < w * 1000) }' &&
	ok "storm within ${WINDOW} s (first INVITE -> last ACK: $SPAN ms)" ||
	fail "storm took $SPAN ms, not < ${WINDOW} s"

# ---- rekeys: counted from confd's log (see the header) ---------------------
LOG=$(v confd_log)
OFF=$(v log_offset)
if [ -z "$LOG" ] || [ ! -f "$LOG" ] || [ -z "$OFF" ]; then
	fail "no confd log ($LOG) or offset ($OFF)"
	exit 1
fi
tail -c +$((OFF + 1)) "$LOG" >"$W/storm.log"
CREATED=$(grep -cE ': epoch [0-9]+ \(MKI 0x[0-9a-f]{8}\) created$' \
	"$W/storm.log")
SWITCHED=$(grep -cE ': SWITCH_MKI epoch [0-9]+$' "$W/storm.log")
LAST=$(grep -oE ': epoch [0-9]+ \(MKI 0x[0-9a-f]{8}\) created$' \
	"$W/storm.log" | tail -1 | awk '{print $3}')
LASTSW=$(grep -oE ': SWITCH_MKI epoch [0-9]+$' "$W/storm.log" | tail -1 |
	awk '{print $4}')
echo "rekeys in the storm: $CREATED created, $SWITCHED switched" \
	"(epochs $(v first_epoch)..$LAST, after $(v epoch_before))"
[ "$CREATED" = "$(v rekeys)" ] && ok "driver counts the same ($CREATED)" ||
	fail "driver counts $(v rekeys) rekeys, the log $CREATED"
if [ "$CREATED" -ge 1 ] && [ "$CREATED" -le $MAX_REKEYS ]; then
	ok "$CREATED rekey(s) for the storm (<= $MAX_REKEYS)"
else
	fail "$CREATED rekeys for the storm (want 1..$MAX_REKEYS)"
	grep -E 'created$|SWITCH_MKI' "$W/storm.log"
fi
[ "$SWITCHED" = "$CREATED" ] && [ "$LASTSW" = "$LAST" ] &&
	ok "every rekey completed (SWITCH_MKI epoch $LASTSW)" ||
	fail "$SWITCHED switches for $CREATED rekeys (last $LASTSW of $LAST)"
[ "$(v settled)" = 1 ] && ok "rekeys settled" || fail "rekeys never settled"
[ "$(v removed)" = 0 ] && [ "$(v refused)" = 0 ] &&
	ok "nobody removed or refused" ||
	fail "$(v removed) removed, $(v refused) refused"

# ---- everyone on the newest epoch ------------------------------------------
WANT=$(printf '0x%08x' $((0x80000000 | ${LAST:-0})))
MEMBERS=$(grep -c '^member ' "$W/storm.out")
ON=$(grep -c "^member .* mki=$WANT\$" "$W/storm.out")
[ "$MEMBERS" = $((N + 1)) ] && [ "$(v members)" = $((N + 1)) ] &&
	ok "$MEMBERS members (creator + $N)" ||
	fail "$MEMBERS members reported, not $((N + 1))"
if [ "$ON" = "$MEMBERS" ] && [ "$(v members_on_final)" = "$MEMBERS" ]; then
	ok "all $ON members hold epoch $LAST ($WANT) as their newest key"
else
	fail "$ON of $MEMBERS members on $WANT"
	grep '^member ' "$W/storm.out" | awk '{print $4}' | sort | uniq -c
fi

T=$((SECONDS - T0))
[ $T -lt 60 ] && ok "took $T s (< 60)" || fail "took $T s"
if [ "$FAIL" = 0 ]; then
	echo "all confd storm checks passed"
	exit 0
fi
echo "--- driver stderr"
cat "$W/storm.err"
exit 1
