#!/bin/bash
# confd_mix_codecs.sh -- conclave-confd in mixing mode with members of
# three codecs (issue 6 §4: the focus decodes G.711 mu-law, A-law and
# Opus, and sends one common mix per codec, encrypted once under the group
# key). The real conclave-kmsd, one confd (`policy media=mix`, the default
# speakers=3) and three `conclave ua` on loopback:
#
#   Alice --codec pcmu (600 Hz), Bob --codec pcma (1050 Hz), Carol
#   --codec opus (1650 Hz, PT 96, 8 kHz narrowband).
#
# Asserted from confd's log and the --report JSON: confd chose each
# member's codec from its offer (its log: "mix codec pcmu|pcma|opus");
# each member hears the tones of the
# two others and never its own; everything it hears arrives on the
# mixer's SSRCs (the three class SSRCs and the N-1 ones; none a member's);
# no packet fails authentication (failed == 0) or names an unknown MKI.
# Dave (--codec pcma, 2400 Hz) joins for 3 s while the three speaker
# places are held (hysteresis keeps him out, and he leaves well before
# the others): he listens, hearing Alice, Bob and Carol on the A-law
# class's common SSRC, next to Bob's A-law N-1 stream.
#
# usage: confd_mix_codecs.sh <conclave-binary> <build>/tests
# exit 77 (skip) if a binary is missing or conclave was built without
# libopus (--codec opus refused).
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=mixcodec
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"
if ! "$CONCLAVE" ua --help >/dev/null 2>&1; then
	echo "skip: conclave has no ua command"
	exit 77
fi
if ! "$CONCLAVE" ua --help 2>&1 | grep -q -- "--codec"; then
	echo "skip: conclave ua has no --codec"
	exit 77
fi
# a build without libopus (-DCONCLAVE_OPUS=OFF) has no Opus class
if grep -q "^CONCLAVE_OPUS:BOOL=OFF" "$TESTS/../CMakeCache.txt" 2>/dev/null; then
	echo "skip: built without libopus"
	exit 77
fi

env_store alice bob carol dave
KPORT=$(port)
env_creds "$KPORT" alice bob carol dave
env_kmsd "$KPORT" || exit 1

SPORT=$(port)
mkdir -p "$W/a"
env_media "$W/a" # CONCLAVE_TEST_MEDIA=remote: the mixer runs in a mediad
{
	echo "udp 127.0.0.1:$SPORT"
	echo "tcp 127.0.0.1:$SPORT"
	echo "factory $FACTORY"
	echo "credential $W/creds/confd.cred"
	echo "skew $SKEW"
	echo "idle_timeout 2"
	echo "log_level debug"
	echo "policy media=mix"
	echo "policy rekey-on=join,leave"
	echo "policy min-rekey-interval=1s"
	echo "policy grace=3000"
	echo "policy ack-deadline=3000"
	for line in "${MEDIA_LINES[@]}"; do echo "$line"; done
} >"$W/a/confd.conf"
"$CONFD" --config "$W/a/confd.conf" >"$W/a/confd.log" 2>&1 &
env_bg $!
waitfor "$W/a/confd.log" "listening sip TCP" 100 ||
	{ fail "conclave-confd did not come up"; exit 1; }

declare -A TONE=([alice]=600 [bob]=1050 [carol]=1650 [dave]=2400)
declare -A CODEC=([alice]=pcmu [bob]=pcma [carol]=opus [dave]=pcma)
PIDS=
ua() { # NAME DURATION args...
	local n=$1 d=$2
	shift 2
	timeout 40 "$CONCLAVE" ua --cred "$W/creds/$n.cred" \
		--server "127.0.0.1:$SPORT" --skew "$SKEW" --duration "$d" \
		--tone "${TONE[$n]}" --codec "${CODEC[$n]}" \
		--report "$W/a/$n.json" --grace 3000 \
		"$@" </dev/null >"$W/a/$n.out" 2>&1 &
	env_bg $!
	PIDS="$PIDS $!"
}


ALLOW="sip:bob@$REALM,sip:carol@$REALM,sip:dave@$REALM"
ua alice 10 --focus-out "$W/a/focus" create --factory "$FACTORY" \
	--allow "$ALLOW"
waitfor "$W/a/alice.out" "joined" 50 || { fail "Alice did not join"; exit 1; }
ua bob 8.5 join "$(cat "$W/a/focus")"
ua carol 8 join "$(cat "$W/a/focus")"
for n in bob carol; do
	waitfor "$W/a/$n.out" "joined" 50 || fail "$n did not join"
done
# Dave joins once all three hold a speaker place (each receives an N-1
# stream: a speaker's own mix without its voice), not after a fixed
# sleep: under load a slow start would leave a place free for him.
N1=$(cat "$W/a/confd.log" "$W/a/mediad.log" 2>/dev/null |
	sed -n 's/.*SSRCs common [0-9a-f]* n-1 \([0-9a-f,]*\) .*/\1/p' |
	head -1 | sed 's/,/\\|/g')
for n in alice bob carol; do
	waitfor "$W/a/$n.out" "source ssrc \($N1\)" 50 ||
		fail "$n got no N-1 stream (not a speaker)"
done
sleep 0.5
ua dave 3 join "$(cat "$W/a/focus")"
for p in $PIDS; do
	wait "$p" || fail "a participant exited $?"
done

grep -qs "mixing, 3 speakers" "$W/a/confd.log" "$W/a/mediad.log" &&
	ok "confd mixes" || fail "confd did not mix"

python3 - "$W" <<'EOP' || FAIL=1
import glob, json, re, sys
w = sys.argv[1]
TONE = {"alice": 600, "bob": 1050, "carol": 1650, "dave": 2400}
NAMES = tuple(TONE)
bad = 0

def check(c, msg):
    global bad
    print(("ok " if c else "FAIL: ") + msg)
    bad += not c

R = {n: json.load(open(f"{w}/a/{n}.json")) for n in NAMES}
log = "".join(open(f).read() for f in glob.glob(f"{w}/a/*.log"))
m = re.search(r"SSRCs common ([0-9a-f]{8}) n-1 ([0-9a-f,]+) "
              r"pcma ([0-9a-f]{8}) opus ([0-9a-f]{8})", log)
check(bool(m), "confd logged its class SSRCs")
if not m:
    sys.exit(1)
cls = {"pcmu": int(m[1], 16), "pcma": int(m[3], 16), "opus": int(m[4], 16)}
n1 = [int(s, 16) for s in m[2].split(",")]
focus = {*cls.values(), *n1}
check(len(focus) == 3 + len(n1), f"{len(focus)} distinct mixer SSRCs")
own = {r["ssrc"] for r in R.values()}

def heard(src):  # the member tones detected in a stream (share >= 5 %)
    hz = {round(t["hz"]) for t in src["tones"]}
    return {n for n, f in TONE.items() if f in hz}

for n, r in R.items():
    rx = r["received"]
    check(rx["failed"] == 0 and rx["unknown_mki"] == 0 and
          rx["decrypted"] > 0,
          f"{n}: decrypted {rx['decrypted']}, failed {rx['failed']}, "
          f"unknown MKI {rx['unknown_mki']}")
    srcs = [s["ssrc"] for s in r["sources"]]
    check(srcs and all(s in focus and s not in own for s in srcs),
          f"{n} heard only the mixer's SSRCs "
          f"{[s['ssrc_hex'] for s in r['sources']]}")
    tones = set().union(*[heard(s) for s in r["sources"]])
    check(n not in tones, f"{n} does not hear its own tone "
          f"(heard {sorted(tones)})")
for n, c in (("alice", "pcmu"), ("bob", "pcma"), ("carol", "opus")):
    tones = set().union(*[heard(s) for s in R[n]["sources"]])
    want = {"alice", "bob", "carol"} - {n}
    check(want <= tones and "dave" not in tones,
          f"{n} ({c}) hears {sorted(tones)} (want {sorted(want)})")
    others = {v for k, v in cls.items() if k != c}
    check(not any(s["ssrc"] in others for s in R[n]["sources"]),
          f"{n} ({c}) got no other codec class's common mix")
dc = [s for s in R["dave"]["sources"] if s["ssrc"] == cls["pcma"]]
check(bool(dc) and {"alice", "bob", "carol"} <= heard(dc[0]),
      f"dave (pcma, a listener) hears alice, bob, carol on the A-law "
      f"class SSRC ({sorted(heard(dc[0])) if dc else 'no such stream'})")
sys.exit(1 if bad else 0)
EOP

for n in pcmu pcma opus; do
	grep -q "mix codec $n" "$W/a/confd.log" &&
		ok "confd answered a member with $n only" ||
		fail "confd chose no $n"
done
if cat "$W"/a/*.out "$W"/a/*.log | grep -Eqi '[0-9a-f]{32}'; then
	fail "output holds something key-like"
fi
[ "$FAIL" = 0 ] && { echo "all mixing codec checks passed"; exit 0; }
for n in alice bob carol dave; do
	echo "--- $n.out"
	tail -n 15 "$W/a/$n.out"
done
for l in "$W"/a/*.log; do
	echo "--- $l"
	grep -v DEBUG "$l" | tail -n 30
done
exit 1
