#!/bin/bash
# confd_refer.sh -- REFER and dial-out (issue 6 §2, RFC 4579 §5.5/§5.6,
# seed 000 §5.3.3.1.2-5.3.3.1.3 and §5.3.3.3.1: joins triggered by REFER,
# INVITEs from the focus carrying tickets that authenticate the focus) with the real conclave-kmsd, conclave-confd and
# `conclave ua` on loopback:
#
#   Alice creates allowing Bob and Dave; Bob joins; Dave listens.
#   Bob REFERs Dave to the focus: 202, NOTIFY 100 then 200; the focus got a
#     dial-out ticket naming Dave, Dave resolved it (the KMS authenticated
#     the focus to him) and took the group keys from its KEMAC; everyone
#     hears everyone.
#   Refused, each with a log line and nothing changed: a REFER naming the
#     focus itself (482), one naming Mallory, who is not allowed (403), a
#     REFER from outside any dialog (403).
#   Alice REFERs Carol to the conference (§5.6): Carol's ua answers 202,
#     dials in to that focus with a ticket of her own, and NOTIFYs Alice
#     (sipfrag 100, then 200).
#
# usage: confd_refer.sh <conclave-binary> <build>/tests
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=referit
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"

env_store alice bob carol dave mallory
KPORT=$(port)
SPORT=$(port)
DPORT=$(port)
CPORT=$(port)
env_creds "$KPORT" alice bob carol dave mallory
env_kmsd "$KPORT" || exit 1
env_confd "$SPORT" "idle_timeout 2" "policy rekey-on=join,leave" \
	"policy min-rekey-interval=1s" "policy grace=2000" \
	"policy ack-deadline=3000" || exit 1

ua() { env_ua "$@"; }
say() { env_say "$@"; }

ua alice 50 --focus-out "$W/focus" create --factory "$FACTORY" \
	--allow "sip:bob@$REALM,sip:dave@$REALM,sip:carol@$REALM"
waitfor "$W/alice.out" "joined" 50 || fail "Alice did not join"
FOCUS=$(cat "$W/focus" 2>/dev/null)
ua bob 50 join "$FOCUS"
ua dave 50 --sip-listen "127.0.0.1:$DPORT" listen
ua carol 50 --sip-listen "127.0.0.1:$CPORT" listen
waitfor "$W/bob.out" "joined" 50 || fail "Bob did not join"
waitfor "$W/dave.out" "listening on" 50 || fail "Dave does not listen"
waitfor "$W/carol.out" "listening on" 50 || fail "Carol does not listen"

# ---- Bob REFERs Dave to the focus: dial-out ---------------------------------
say bob "invite sip:dave@127.0.0.1:$DPORT"
waitfor "$W/bob.out" "refer: 202" 50 && ok "REFER to the focus: 202" ||
	fail "no 202 to Bob's REFER"
waitfor "$W/bob.out" "refer: SIP/2.0 100 Trying" 50 &&
	ok "NOTIFY sipfrag 100 Trying" || fail "no NOTIFY 100"
waitfor "$W/dave.out" "joined" 80 && ok "Dave joined by dial-out" ||
	fail "Dave was not dialled in"
grep -q "called by $FOCUS (authenticated by the KMS)" "$W/dave.out" &&
	ok "Dave: the KMS authenticated the focus ($FOCUS)" ||
	fail "Dave did not authenticate the focus"
waitfor "$W/bob.out" "refer: SIP/2.0 200 OK" 50 &&
	ok "NOTIFY sipfrag 200 OK" || fail "no NOTIFY 200"
grep -q "dialling sip:dave@$REALM" "$W/confd.log" &&
	ok "confd dialled Dave's identity" || fail "confd did not dial"

# ---- refused REFERs -----------------------------------------------------------
say bob "invite $FOCUS"
waitfor "$W/bob.out" "refer: 482" 50 && ok "REFER naming the focus: 482" ||
	fail "loop REFER not refused with 482"
say bob "invite sip:mallory@127.0.0.1:9"
waitfor "$W/bob.out" "refer: 403" 50 && ok "REFER naming Mallory: 403" ||
	fail "REFER for Mallory not refused"
grep -q "refers sip:mallory@$REALM, who is not allowed" "$W/confd.log" &&
	ok "confd logged why" || fail "no log line for Mallory"
say alice "refer sip:focus1.conf1@127.0.0.1:$SPORT --to-user"
waitfor "$W/alice.out" "refer: 403" 50 &&
	ok "REFER from outside a dialog: 403" ||
	fail "out-of-dialog REFER not refused"
grep -q "outside a dialog (only members refer)" "$W/confd.log" &&
	ok "confd logged the out-of-dialog REFER" || fail "no log line"

# ---- Alice REFERs Carol to the conference (§5.6) ------------------------------
say alice "refer sip:carol@127.0.0.1:$CPORT --to-user"
waitfor "$W/alice.out" "refer: 202" 50 && ok "REFER to Carol: 202" ||
	fail "Carol did not accept the REFER"
waitfor "$W/carol.out" "referred to <$FOCUS> by sip:alice@$REALM" 50 &&
	ok "Carol was referred to $FOCUS" || fail "Carol's ua saw no REFER"
waitfor "$W/carol.out" "joined $FOCUS" 80 &&
	ok "Carol dialled in with a ticket of her own" ||
	fail "Carol did not dial in after the REFER"
waitfor "$W/alice.out" "refer: SIP/2.0 200 OK" 50 &&
	ok "Alice got NOTIFY sipfrag 200 OK from Carol" ||
	fail "no NOTIFY 200 from Carol"
sleep 2

# everyone has heard Dave for a while by now; all leave (stdin `leave`)
sleep 2
for n in carol dave bob alice; do
	say $n leave
	eval "p=\$PID_$n"
	wait "$p" || fail "$n exited $?"
done

python3 - "$W" <<'EOP' || FAIL=1
import json, sys
w = sys.argv[1]
R = {n: json.load(open(f"{w}/{n}.json")) for n in ("alice", "bob", "dave", "carol")}
bad = 0
def check(c, msg):
    global bad
    print(("ok " if c else "FAIL: ") + msg)
    bad += not c
def heard(r, hz):
    return any(abs(t["hz"] - hz) < 1 for s in r["sources"] for t in s["tones"])
for n, r in R.items():
    rx = r["received"]
    check(rx["decrypted"] > 0 and rx["failed"] == 0,
          f"{n}: decrypted {rx['decrypted']}, failed {rx['failed']}")
for a in R:
    for b in R:
        if a != b:
            check(heard(R[a], R[b]["tone_hz"]), f"{a} heard {b}")
sys.exit(1 if bad else 0)
EOP

if cat "$W"/*.out "$W/confd.log" | grep -Eqi '[0-9a-f]{32}'; then
	fail "output holds something key-like"
fi
[ "$FAIL" = 0 ] && { echo "all REFER checks passed"; exit 0; }
for n in alice bob dave carol; do
	echo "--- $n.out"
	tail -n 15 "$W/$n.out"
done
echo "--- confd.log"
tail -n 40 "$W/confd.log"
exit 1
