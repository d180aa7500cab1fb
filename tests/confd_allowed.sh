#!/bin/bash
# confd_allowed.sh -- the owner replaces the allowed set (issue 6 §1,
# seed 000 §5.3.3.1.2, DESIGN.md D3) with the real conclave-kmsd,
# conclave-confd and `conclave ua` on loopback:
#
#   Alice creates allowing Bob and Carol; both join; Dave is refused (403).
#   Alice's re-INVITE with a ticket naming only the focus: 200, the set is
#     unchanged (Dave still refused).
#   Bob (a member, not the owner) sends the same kind of re-INVITE: 403,
#     nothing changes.
#   Alice's re-INVITE with a ticket naming Bob and Dave: 200; Carol, no
#     longer allowed, gets a BYE and a rekey follows that she does not
#     get; Dave may now join and hears Alice; Carol may not rejoin (403).
#
# usage: confd_allowed.sh <conclave-binary> <build>/tests
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=allowit
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"

env_store alice bob carol dave
KPORT=$(port)
SPORT=$(port)
env_creds "$KPORT" alice bob carol dave
env_kmsd "$KPORT" || exit 1
env_confd "$SPORT" "idle_timeout 2" "policy rekey-on=join,leave" \
	"policy min-rekey-interval=1s" "policy grace=2000" \
	"policy ack-deadline=3000" || exit 1

ua() { env_ua "$@"; }
say() { env_say "$@"; }
join_once() { # name -> exit status of a short join
	timeout 20 "$CONCLAVE" ua --cred "$W/creds/$1.cred" \
		--server "127.0.0.1:$SPORT" --skew $SKEW --duration 2 \
		join "$FOCUS" </dev/null >"$W/$1-$2.out" 2>&1
}

ua alice 50 --focus-out "$W/focus" create --factory "$FACTORY" \
	--allow "sip:bob@$REALM,sip:carol@$REALM"
waitfor "$W/alice.out" "joined" 50 || fail "Alice did not join"
FOCUS=$(cat "$W/focus" 2>/dev/null)
ua bob 50 join "$FOCUS"
ua carol 50 join "$FOCUS"
waitfor "$W/bob.out" "joined" 50 || fail "Bob did not join"
waitfor "$W/carol.out" "joined" 50 || fail "Carol did not join"

join_once dave 1
rc=$?
[ $rc = 1 ] && grep -q "status 403" "$W/dave-1.out" &&
	ok "Dave (not allowed): 403" || fail "Dave first join rc=$rc"

# ---- a ticket naming only the focus: set unchanged ---------------------------
say alice "allow"
waitfor "$W/alice.out" "allowed-set update accepted" 50 &&
	ok "owner's re-INVITE (focus only): 200" ||
	fail "owner's focus-only update not accepted"
grep -q "names only the focus: allowed set unchanged" "$W/confd.log" &&
	ok "confd: allowed set unchanged" || fail "confd did not say unchanged"
join_once dave 2
rc=$?
[ $rc = 1 ] && grep -q "status 403" "$W/dave-2.out" &&
	ok "Dave still refused (403)" || fail "Dave second join rc=$rc"

# ---- a member who is not the owner: 403, nothing changes ---------------------
say bob "allow sip:dave@$REALM"
waitfor "$W/bob.out" "allowed-set update refused: 403" 50 &&
	ok "Bob's re-INVITE (not the owner): 403" ||
	fail "Bob's update was not refused with 403"
grep -q "re-INVITE with a ticket from sip:bob@$REALM, who is not the owner" \
	"$W/confd.log" && ok "confd logged why" || fail "no log line for Bob"
grep -q "replaced the allowed set" "$W/confd.log" &&
	fail "the set changed after Bob's re-INVITE"

# ---- the owner replaces the set: Carol out, Dave in --------------------------
sleep 1
say alice "allow sip:bob@$REALM,sip:dave@$REALM"
waitfor "$W/alice.out" "allowed-set update accepted" 50 &&
	ok "owner's re-INVITE (bob, dave): 200" || fail "owner's update failed"
waitfor "$W/confd.log" "replaced the allowed set (2 identities)" 30 &&
	ok "confd replaced the allowed set" || fail "confd did not replace it"
waitfor "$W/confd.log" "carol@$REALM removed: disallowed" 30 &&
	ok "Carol removed (disallowed)" || fail "Carol not removed"
for _ in $(seq 1 50); do
	kill -0 "$PID_carol" 2>/dev/null || break
	sleep 0.1
done
wait "$PID_carol"
rc=$?
grep -q '"ended": "focus-bye"' "$W/carol.json" &&
	ok "Carol got a BYE (exit $rc)" || fail "Carol did not get a BYE"
ua dave 50 join "$FOCUS"
waitfor "$W/dave.out" "joined" 50 && ok "Dave joins now" ||
	fail "Dave could not join after the update"
join_once carol 2
rc=$?
[ $rc = 1 ] && grep -q "status 403" "$W/carol-2.out" &&
	ok "Carol may not rejoin (403)" || fail "Carol rejoin rc=$rc"

# everyone speaks with Dave for 3 s, then leaves (stdin `leave`)
sleep 3
for n in dave bob alice; do
	say $n leave
	eval "p=\$PID_$n"
	wait "$p" || fail "$n exited $?"
done

python3 - "$W" <<'EOP' || FAIL=1
import json, sys
w = sys.argv[1]
R = {n: json.load(open(f"{w}/{n}.json")) for n in ("alice", "bob", "carol", "dave")}
bad = 0
def check(c, msg):
    global bad
    print(("ok " if c else "FAIL: ") + msg)
    bad += not c
def heard(r, hz):
    return any(abs(t["hz"] - hz) < 1 for s in r["sources"] for t in s["tones"])
for n in ("alice", "bob", "dave"):
    rx = R[n]["received"]
    check(rx["decrypted"] > 0 and rx["failed"] == 0,
          f"{n}: decrypted {rx['decrypted']}, failed {rx['failed']}")
check(heard(R["dave"], R["alice"]["tone_hz"]), "Dave heard Alice")
check(heard(R["alice"], R["dave"]["tone_hz"]), "Alice heard Dave")
carol = {e["mki"] for e in R["carol"]["epochs"]}
after = {e["mki"] for e in R["dave"]["epochs"]}
# the rekey that follows her removal (after the minimum interval) makes
# an epoch she never gets; Dave, who joined meanwhile, holds it
check(max(after) not in carol,
      f"Carol never held the epoch made after her removal "
      f"({max(after)}; hers {sorted(carol)})")
sys.exit(1 if bad else 0)
EOP

if cat "$W"/*.out "$W/confd.log" | grep -Eqi '[0-9a-f]{32}'; then
	fail "output holds something key-like"
fi
[ "$FAIL" = 0 ] && { echo "all allowed-set checks passed"; exit 0; }
for n in alice bob carol dave; do
	echo "--- $n.out"
	tail -n 15 "$W/$n.out"
done
echo "--- confd.log"
tail -n 40 "$W/confd.log"
exit 1
