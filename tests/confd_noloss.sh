#!/bin/bash
# confd_noloss.sh -- rekeys lose no packet (DESIGN.md D7, issue 5 §4
# "Rekey with no loss") with the real conclave-kmsd, conclave-confd and
# four `conclave ua` participants on loopback, all speaking throughout:
#
#   Alice creates, Bob joins, Carol joins (rekey), Dave joins (rekey),
#   Carol leaves (rekey). Each rekey is a re-INVITE with the new epoch;
#   once every member holds it confd signals the switch (map-only CSB
#   update in an INFO) and each participant moves its sending MKI, so
#   for a while packets under the old and the new MKI are in flight
#   together. Every receiver must then show, for every source, no gap in
#   the SRTP index (expected == decrypted), no packet failing
#   authentication and none under an unknown MKI, while the sources'
#   packets arrived under at least two MKIs. The participants' fallback
#   switch timer is 10 s, longer than the test, so every switch seen is
#   the focus's signal or a packet already heard under the new MKI.
#
# usage: confd_noloss.sh <conclave-binary> <build>/tests
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=nolossit
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"

env_store alice bob carol dave
KPORT=$(port)
SPORT=$(port)
env_creds "$KPORT" alice bob carol dave
env_kmsd "$KPORT" || exit 1
env_confd "$SPORT" "idle_timeout 2" "log_level debug" \
	"policy rekey-on=join,leave" "policy min-rekey-interval=1s" \
	"policy grace=3000" "policy ack-deadline=3000" || exit 1

UA_GRACE=3000
ua() { env_ua "$@"; }

ua alice 13 --focus-out "$W/focus" create --factory "$FACTORY" \
	--allow "sip:bob@$REALM,sip:carol@$REALM,sip:dave@$REALM"
waitfor "$W/alice.out" "joined" 50 || fail "Alice did not join"
FOCUS=$(cat "$W/focus" 2>/dev/null)
ua bob 12 join "$FOCUS"
waitfor "$W/bob.out" "joined" 50 || fail "Bob did not join"
sleep 2
ua carol 4.5 join "$FOCUS"
waitfor "$W/carol.out" "joined" 50 || fail "Carol did not join"
sleep 2
ua dave 6 join "$FOCUS"
waitfor "$W/dave.out" "joined" 50 || fail "Dave did not join"
# Carol leaves about 2.5 s after Dave's join: the third rekey
for n in alice bob carol dave; do
	eval "p=\$PID_$n"
	wait "$p" || fail "$n exited $?"
done

n=$(grep -c "switch signalled to" "$W/confd.log")
[ "$n" -ge 3 ] && ok "confd signalled $n epoch switches" ||
	fail "confd signalled $n switches (want >= 3)"
# every switch is the focus's signal or follows a member who got it
# ("heard under it"); none waits for the participants' own 10 s timer
sig=0
for n in alice bob dave; do
	s=$(grep -c "(the focus signalled it)" "$W/$n.out")
	sig=$((sig + s))
	ok "$n switched on the focus's signal $s time(s)"
	if grep -q "switch-after elapsed" "$W/$n.out"; then
		fail "$n fell back on its own timer"
	fi
done
[ "$sig" -ge 3 ] && ok "$sig switches on the focus's signal in all" ||
	fail "only $sig switches on the focus's signal"

python3 - "$W" <<'EOP' || FAIL=1
import json, sys
w = sys.argv[1]
R = {n: json.load(open(f"{w}/{n}.json")) for n in ("alice", "bob", "carol", "dave")}
bad = 0
def check(c, msg):
    global bad
    print(("ok " if c else "FAIL: ") + msg)
    bad += not c
name = {r["ssrc"]: n for n, r in R.items()}
for n, r in R.items():
    rx = r["received"]
    check(rx["failed"] == 0 and rx["unknown_mki"] == 0 and rx["decrypted"] > 0,
          f"{n}: decrypted {rx['decrypted']}, failed {rx['failed']}, "
          f"unknown MKI {rx['unknown_mki']}")
    for s in r["sources"]:
        src = name.get(s["ssrc"], s["ssrc_hex"])
        mkis = [m["mki"] for m in s["per_mki"] if m["packets"]]
        check(s["lost"] == 0 and s["packets"] > 0,
              f"{n} <- {src}: {s['packets']} of {s['expected']} "
              f"packets, none lost, under {len(mkis)} MKI(s)")
A = R["alice"]
for src in ("bob", "dave"):
    s = next(x for x in A["sources"] if name.get(x["ssrc"]) == src)
    mkis = [m["mki"] for m in s["per_mki"] if m["packets"]]
    want = 4 if src == "bob" else 2
    check(len(mkis) >= want,
          f"alice heard {src} under {len(mkis)} MKIs {mkis} (>= {want}) "
          f"with no gap across the switches")
epochs = {n: sorted(e["mki"] for e in r["epochs"]) for n, r in R.items()}
check(len(epochs["alice"]) >= 4, f"alice held {len(epochs['alice'])} epochs")
sys.exit(1 if bad else 0)
EOP

if cat "$W"/*.out "$W/confd.log" | grep -Eqi '[0-9a-f]{32}'; then
	fail "output holds something key-like"
fi
[ "$FAIL" = 0 ] && { echo "all no-loss checks passed"; exit 0; }
for n in alice bob carol dave; do
	echo "--- $n.out"
	tail -n 25 "$W/$n.out"
done
echo "--- confd.log"
grep -v DEBUG "$W/confd.log" | tail -n 40
exit 1
