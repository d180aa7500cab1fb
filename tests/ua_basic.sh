#!/bin/bash
# ua_basic.sh -- `conclave ua` against the real conclave-kmsd and
# conclave-confd on loopback (issue 5 §2): Alice creates a conference
# allowing Bob and Carol, Bob joins, both send their tones; from the
# --report JSON each must have heard the other's tone and not its own,
# with packets decrypted > 0 and failed == 0. If confd rekeys by
# re-INVITE, Carol's join triggers a rekey and the reports must show the
# new MKI held and used by all three. Also: Mallory (not allowed) is
# refused, `status`/`leave` on stdin and `conclave ua leave --pid` work,
# and no key-like hex reaches any output.
#
# usage: ua_basic.sh <conclave-binary> <build>/tests
# exit 77 (skip) if a binary is missing or confd has no media plane.
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=uait
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"
if ! "$CONCLAVE" ua --help >/dev/null 2>&1; then
	echo "skip: conclave has no ua command"
	exit 77
fi

# ---- the KMS store and the daemons ---------------------------------------------
env_store alice bob carol mallory
KPORT=$(port)
SPORT=$(port)
URL=http://127.0.0.1:$KPORT/mikey
mkdir -p "$W/rec-alice" "$W/rec-bob" "$W/rec-carol"
env_creds "$KPORT" alice bob carol mallory
env_kmsd "$KPORT" || exit 1
env_confd "$SPORT" "idle_timeout 2" "log_level debug" "policy rekey-on=join,leave" "policy min-rekey-interval=1s" "policy grace=2000" "policy ack-deadline=3000" || exit 1
# ua NAME DURATION args...: a participant in the background, stdin a FIFO
ua() {
	local n=$1 d=$2
	shift 2
	mkfifo "$W/$n.in"
	timeout 40 "$CONCLAVE" ua --cred "$W/creds/$n.cred" \
		--server "127.0.0.1:$SPORT" --skew $SKEW --duration "$d" \
		--report "$W/$n.json" --record "$W/rec-$n" --grace 2000 \
		"$@" <"$W/$n.in" >"$W/$n.out" 2>&1 &
	exec {fd}>"$W/$n.in" # keep the FIFO open: stdin stays readable
	eval "FD_$n=$fd"
}
waitfor() { # file pattern tenths
	for _ in $(seq 1 "$3"); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- Alice creates, allowing Bob and Carol ------------------------------------
ua alice 30 --focus-out "$W/focus" create --factory "$FACTORY" \
	--allow "sip:bob@$REALM,sip:carol@$REALM"
APID=$!
env_bg $APID
waitfor "$W/alice.out" "joined" 50 || {
	fail "Alice did not join"
	cat "$W/alice.out"
	exit 1
}
FOCUS=$(cat "$W/focus")
[ "$FOCUS" = "sip:focus1.conf1@$REALM" ] && ok "create: focus $FOCUS" ||
	fail "create: focus '$FOCUS'"
if grep -q "media inactive" "$W/alice.out"; then
	echo "skip: conclave-confd answers without a media plane"
	FAIL=0
	kill -TERM $APID 2>/dev/null
	exit 77
fi
grep -q "media to 127.0.0.1:" "$W/alice.out" && ok "create: focus RTP address" ||
	fail "no media address in the answer"

# ---- Mallory is refused -----------------------------------------------------------
timeout 20 "$CONCLAVE" ua --cred "$W/creds/mallory.cred" \
	--server "127.0.0.1:$SPORT" --skew $SKEW --duration 1 \
	join "$FOCUS" </dev/null >"$W/mallory.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "status 403" "$W/mallory.out"; then
	ok "Mallory (not allowed): 403, exit 1"
else
	fail "Mallory rc=$rc"
	cat "$W/mallory.out"
fi

# ---- Bob joins; both speak for ~3 s ---------------------------------------------
ua bob 30 join "$FOCUS"
BPID=$!
env_bg $BPID
waitfor "$W/bob.out" "joined" 50 || fail "Bob did not join"
sleep 3
(echo status >&"$FD_bob") 2>/dev/null
waitfor "$W/bob.out" "^status joined" 20 && ok "status on stdin" ||
	fail "no status line"

# ---- Carol joins: a rekey if confd does it -----------------------------------------
ua carol 30 join "$FOCUS"
CARPID=$!
env_bg $CARPID
waitfor "$W/carol.out" "joined" 50 || fail "Carol did not join"
REKEY=
for _ in $(seq 1 80); do
	if grep -q "rekey answered" "$W/carol.out"; then
		REKEY=1
		ok "rekey after Carol's join: $(grep 'install mki' "$W/carol.out" | tail -1 | sed 's/.*install //')"
		break
	fi
	if grep -q "not implemented" "$W/confd.log"; then
		REKEY=0
		echo "note: confd does not rekey by re-INVITE yet; rekey checks skipped"
		break
	fi
	sleep 0.1
done
[ -n "$REKEY" ] || fail "no rekey after Carol's join"
sleep 3

# ---- leave: Carol by `leave` on stdin, Bob by `conclave ua leave --pid` ----------
(echo leave >&"$FD_carol") 2>/dev/null
"$CONCLAVE" ua leave --pid "$BPID" || fail "ua leave --pid"
for p in $CARPID $BPID; do
	wait "$p" || fail "participant $p exited $?"
done
CARPID= BPID=
kill -TERM "$APID"
wait "$APID" || fail "Alice exited $?"
APID=
for n in alice bob carol; do
	grep -q "bye 200" "$W/$n.out" && ok "$n left with BYE -> 200" ||
		fail "$n: no BYE 200"
done

# ---- the reports -------------------------------------------------------------------
python3 - "$W" "$REKEY" <<'EOP' || FAIL=1
import json, sys
w, rekey = sys.argv[1], sys.argv[2] == "1"
R = {n: json.load(open(f"{w}/{n}.json")) for n in ("alice", "bob", "carol")}
bad = 0
def check(c, msg):
    global bad
    print(("ok " if c else "FAIL: ") + msg)
    bad += not c
def heard(r, hz):
    return any(abs(t["hz"] - hz) < 1 for s in r["sources"] for t in s["tones"])
tone = {n: r["tone_hz"] for n, r in R.items()}
check(len(set(tone.values())) == 3, f"distinct tones {tone}")
for n, r in R.items():
    rx = r["received"]
    check(rx["decrypted"] > 0 and rx["failed"] == 0,
          f"{n}: decrypted {rx['decrypted']} > 0, failed {rx['failed']} == 0")
    check(r["sent"]["packets"] > 0, f"{n}: sent {r['sent']['packets']}")
    check(not heard(r, tone[n]), f"{n} did not hear its own tone")
    ssrcs = {s["ssrc"] for s in r["sources"]}
    check(r["ssrc"] not in ssrcs, f"{n} got none of its own packets back")
for a, b in (("alice", "bob"), ("bob", "alice"), ("carol", "alice"),
             ("carol", "bob"), ("alice", "carol"), ("bob", "carol")):
    check(heard(R[a], tone[b]), f"{a} heard {b} ({tone[b]:.0f} Hz)")
if rekey:
    # the epoch of the rekey that Carol's join triggered: her second one
    # (not her newest: Bob's leave, sent at the same moment as hers, may
    # reach confd first and rekey her once more)
    new = sorted(e["mki"] for e in R["carol"]["epochs"])[1]
    check(R["carol"]["rekeys"] >= 1, f"carol answered {R['carol']['rekeys']} CSB update(s)")
    for n, r in R.items():
        mkis = [e["mki"] for e in r["epochs"]]
        check(new in mkis, f"{n} held the new epoch {new} ({mkis})")
        sent = {m["mki"]: m["sent"] for m in r["per_mki"]}
        check(sent.get(new, 0) > 0, f"{n} sent under {new} ({sent.get(new, 0)})")
        got = {m["mki"]: m["decrypted"] for m in r["per_mki"]}
        check(got.get(new, 0) > 0, f"{n} decrypted under {new} ({got.get(new, 0)})")
        heard_new = [s["ssrc_hex"] for s in r["sources"]
                     if any(m["mki"] == new and m["packets"] for m in s["per_mki"])]
        check(len(heard_new) == 2, f"{n} heard both others under {new} ({heard_new})")
sys.exit(1 if bad else 0)
EOP

if ls "$W"/rec-alice/ssrc-*.wav >/dev/null 2>&1; then
	ok "Alice recorded $(ls "$W"/rec-alice | wc -l) source WAV file(s)"
else
	fail "no WAV recorded"
fi
if cat "$W"/*.out | grep -Eqi '[0-9a-f]{32}'; then
	fail "participant output holds something key-like"
else
	ok "no key material in participant output"
fi

kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
CPID=
kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
KPID=
if [ "$FAIL" = 0 ]; then
	echo "all ua checks passed"
	exit 0
fi
for n in alice bob carol; do
	echo "--- $n.out"
	tail -n 30 "$W/$n.out"
done
echo "--- confd.log"
tail -n 40 "$W/confd.log"
exit 1
