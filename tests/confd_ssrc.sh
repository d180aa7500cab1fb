#!/bin/bash
# confd_ssrc.sh -- unique SSRCs and ROCs (DESIGN.md D6, issue 5 §4) with
# the real conclave-kmsd, conclave-confd and `conclave ua` on loopback:
#
#   SSRC collision: Alice and Bob offer the same SSRC; the focus keeps
#     Alice's, assigns Bob another in the TRANSFER_RESP CS map, Bob sends
#     with it, and each hears the other's tone.
#   Late joiner after a wrap: Bob starts at ROC 1, RTP sequence 65400 (as
#     if his stream had already run 131,000 packets), so it wraps again
#     (ROC 1 -> 2) within 3 s. Carol joins after that; the focus names
#     Bob's stream with ROC 2 in her CS map, and she decrypts Bob from her
#     first packet (no failure at all) and hears him. ROC 2 matters: a
#     receiver with no ROC tries 0 and its neighbour 1 on a first packet
#     (src/media/srtp_core.c), so only the CS map can bring it to 2.
#
# usage: confd_ssrc.sh <conclave-binary> <build>/tests
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=ssrcit
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"

env_store alice bob carol
KPORT=$(port)
SPORT=$(port)
env_creds "$KPORT" alice bob carol
env_kmsd "$KPORT" || exit 1
env_confd "$SPORT" "idle_timeout 2" "policy rekey-on=join,leave" \
	"policy min-rekey-interval=1s" "policy grace=2000" \
	"policy ack-deadline=3000" || exit 1

SAME=11111111
ua() { # name duration args...
	local n=$1 d=$2
	shift 2
	timeout 40 "$CONCLAVE" ua --cred "$W/creds/$n.cred" \
		--server "127.0.0.1:$SPORT" --skew $SKEW --duration "$d" \
		--report "$W/$n.json" --grace 2000 "$@" </dev/null \
		>"$W/$n.out" 2>&1 &
}

ua alice 14 --ssrc $SAME --focus-out "$W/focus" create \
	--factory "$FACTORY" --allow "sip:bob@$REALM,sip:carol@$REALM"
APID=$!
env_bg $APID
waitfor "$W/alice.out" "joined" 50 || fail "Alice did not join"
FOCUS=$(cat "$W/focus" 2>/dev/null)

ua bob 12 --ssrc $SAME --roc-start 1 --seq-start 65400 join "$FOCUS"
BPID=$!
env_bg $BPID
waitfor "$W/bob.out" "joined" 50 || fail "Bob did not join"
grep -q "offered SSRC taken" "$W/confd.log" &&
	ok "confd: Bob's SSRC $SAME taken, another assigned" ||
	fail "confd did not reassign Bob's SSRC"
BSSRC=$(sed -n 's/^.*ssrc \([0-9a-f]\{8\}\) sending.*$/\1/p' "$W/bob.out" | head -1)
[ -n "$BSSRC" ] && [ "$BSSRC" != $SAME ] &&
	ok "Bob sends with the assigned SSRC $BSSRC" ||
	fail "Bob sends with '$BSSRC'"

# 136 packets to the wrap at 50 packets/s: wait past it
sleep 4.5
ua carol 5 join "$FOCUS"
CPID2=$!
env_bg $CPID2
waitfor "$W/carol.out" "joined" 50 || fail "Carol did not join"
grep -q "stream $BSSRC roc 2 (CS map)" "$W/carol.out" &&
	ok "Carol's CS map named Bob's stream with ROC 2" ||
	fail "Carol got no ROC for Bob's stream"

for p in $CPID2 $BPID $APID; do
	wait "$p" || fail "participant $p exited $?"
done

python3 - "$W" "$SAME" "$BSSRC" <<'EOP' || FAIL=1
import json, sys
w, same, bssrc = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3] or "0", 16)
R = {n: json.load(open(f"{w}/{n}.json")) for n in ("alice", "bob", "carol")}
bad = 0
def check(c, msg):
    global bad
    print(("ok " if c else "FAIL: ") + msg)
    bad += not c
def src(r, ssrc):
    return next((s for s in r["sources"] if s["ssrc"] == ssrc), None)
def heard(r, ssrc, hz):
    s = src(r, ssrc)
    return s is not None and any(abs(t["hz"] - hz) < 1 for t in s["tones"])
A, B, C = R["alice"], R["bob"], R["carol"]
check(A["ssrc"] == same, f"Alice kept {same:08x}")
check(B["ssrc"] == bssrc and bssrc != same, f"Bob sent as {B['ssrc']:08x}")
check(heard(A, bssrc, B["tone_hz"]), "Alice heard Bob under his new SSRC")
check(heard(B, same, A["tone_hz"]), "Bob heard Alice")
check(B["sent"]["packets"] > 136 + 100,
      f"Bob sent {B['sent']['packets']} packets from seq 65400 (wrapped)")
sa = src(A, bssrc)
check(sa and sa["roc_first"] == 1 and sa["roc_last"] == 2,
      f"Alice followed Bob's stream across the wrap "
      f"(ROC {sa and sa['roc_first']} -> {sa and sa['roc_last']})")
for n in ("alice", "bob", "carol"):
    rx = R[n]["received"]
    check(rx["failed"] == 0 and rx["decrypted"] > 0,
          f"{n}: decrypted {rx['decrypted']}, failed {rx['failed']}")
sc = src(C, bssrc)
check(sc is not None and sc["roc_first"] == 2 and sc["packets"] > 50,
      f"Carol decrypted Bob from her first packet at ROC 2 "
      f"({sc and sc['packets']} packets)")
check(heard(C, bssrc, B["tone_hz"]), "Carol heard Bob's tone")
check(heard(C, same, A["tone_hz"]), "Carol heard Alice's tone")
sys.exit(1 if bad else 0)
EOP

if cat "$W"/*.out "$W/confd.log" | grep -Eqi '[0-9a-f]{32}'; then
	fail "output holds something key-like"
fi
[ "$FAIL" = 0 ] && { echo "all SSRC/ROC checks passed"; exit 0; }
for n in alice bob carol; do
	echo "--- $n.out"
	tail -n 20 "$W/$n.out"
done
echo "--- confd.log"
tail -n 40 "$W/confd.log"
exit 1
