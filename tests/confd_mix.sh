#!/bin/bash
# confd_mix.sh -- conclave-confd in mixing mode (issue 6 §4, policy
# media=mix; seed 002 §5.1.2: a mixer whose output is ciphered once with
# a key common to all users) with the real conclave-kmsd and four `conclave ua`
# participants per conference on loopback, each sending its own tone
# (Alice 600 Hz, Bob 1050, Carol 1650, Dave 2400). Two confds run side by
# side, so the test takes the time of one:
#
#   A: `policy media=mix`, `policy speakers=4`. Alice creates, Bob and
#      Carol join, Dave joins ~2 s later; every join is a rekey. From the
#      --report JSON: every member hears the tones of the three others and
#      never its own; everything it hears arrives on the mixer's SSRCs
#      (confd logs them; none is a member's SSRC); no packet fails
#      authentication or names an unknown MKI; every mixer stream a member
#      heard has no gap in its SRTP index (lost == 0), and Alice's stream
#      ran on under at least three MKIs: the mix continued across the
#      rekeys (new MKI) with no gap.
#   B: `policy media=mix` and the default speakers=3, the same four
#      members: the speaker limit. Alice, Bob and Carol speak first and
#      hold the three places; Dave, as loud, does not displace one
#      (hysteresis). Asserted: Dave's tone is in no member's stream; Dave
#      hears the common mix (the common SSRC) holding exactly Alice's,
#      Bob's and Carol's tones, also in each per-MKI slice (at most 3
#      voices at any time); each of the three hears the other two on its
#      N-1 SSRC; no stream anyone heard holds more than 3 member tones.
#
# With CONCLAVE_TEST_MEDIA=remote (ctest's confd_mix_remote), each confd
# drives its own conclave-mediad over mutual TLS and the mixer runs there
# (issue 7 §3); the checks are the same.
#
# usage: confd_mix.sh <conclave-binary> <build>/tests
# exit 77 (skip) if a binary is missing.
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=mixit
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"
if ! "$CONCLAVE" ua --help >/dev/null 2>&1; then
	echo "skip: conclave has no ua command"
	exit 77
fi

env_store alice bob carol dave
KPORT=$(port)
env_creds "$KPORT" alice bob carol dave
env_kmsd "$KPORT" || exit 1

# confd X PORT SPEAKERS-LINE...: a mixing confd whose files are in $W/X
confd() {
	local x=$1 sport=$2 line
	shift 2
	mkdir -p "$W/$x"
	env_media "$W/$x"
	{
		echo "udp 127.0.0.1:$sport"
		echo "tcp 127.0.0.1:$sport"
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
		for line in "$@" "${MEDIA_LINES[@]}"; do echo "$line"; done
	} >"$W/$x/confd.conf"
	"$CONFD" --config "$W/$x/confd.conf" >"$W/$x/confd.log" 2>&1 &
	env_bg $!
	waitfor "$W/$x/confd.log" "listening sip TCP" 100 && return 0
	fail "conclave-confd $x did not come up"
	return 1
}

APORT=$(port)
BPORT=$(port)
confd a "$APORT" "policy speakers=4" || exit 1
confd b "$BPORT" || exit 1

declare -A TONE=([alice]=600 [bob]=1050 [carol]=1650 [dave]=2400)
PIDS=
ua() { # X PORT NAME DURATION args...
	local x=$1 p=$2 n=$3 d=$4
	shift 4
	timeout 40 "$CONCLAVE" ua --cred "$W/creds/$n.cred" \
		--server "127.0.0.1:$p" --skew $SKEW --duration "$d" \
		--tone "${TONE[$n]}" --report "$W/$x/$n.json" --grace 3000 \
		"$@" </dev/null >"$W/$x/$n.out" 2>&1 &
	env_bg $!
	PIDS="$PIDS $!"
}

ALLOW="sip:bob@$REALM,sip:carol@$REALM,sip:dave@$REALM"
for x in a b; do
	p=$APORT
	[ $x = b ] && p=$BPORT
	ua $x "$p" alice 11 --focus-out "$W/$x/focus" create \
		--factory "$FACTORY" --allow "$ALLOW"
done
for x in a b; do
	waitfor "$W/$x/alice.out" "joined" 50 || fail "$x: Alice did not join"
done
[ "$FAIL" = 0 ] || exit 1
ua a "$APORT" bob 9.5 join "$(cat "$W/a/focus")"
ua b "$BPORT" bob 9.5 join "$(cat "$W/b/focus")"
ua a "$APORT" carol 9 join "$(cat "$W/a/focus")"
ua b "$BPORT" carol 9 join "$(cat "$W/b/focus")"
for x in a b; do
	for n in bob carol; do
		waitfor "$W/$x/$n.out" "joined" 50 || fail "$x: $n did not join"
	done
done
# Dave joins once Alice, Bob and Carol hold speaker places (each receives
# an N-1 stream), not after a fixed sleep: under load a slow start would
# leave a place free for him in B.
for x in a b; do
	N1=$(cat "$W/$x/confd.log" "$W/$x/mediad.log" 2>/dev/null |
		sed -n 's/.*SSRCs common [0-9a-f]* n-1 \([0-9a-f,]*\) .*/\1/p' |
		head -1 | sed 's/,/\\|/g')
	for n in alice bob carol; do
		waitfor "$W/$x/$n.out" "source ssrc \($N1\)" 50 ||
			fail "$x: $n got no N-1 stream (not a speaker)"
	done
done
sleep 1
ua a "$APORT" dave 5 join "$(cat "$W/a/focus")"
ua b "$BPORT" dave 5 join "$(cat "$W/b/focus")"
for p in $PIDS; do
	wait "$p" || fail "a participant exited $?"
done

for x in a b; do
	grep -qs "mixing, [34] speakers" "$W/$x/confd.log" "$W/$x/mediad.log" &&
		ok "$x: confd mixes" || fail "$x: confd did not mix"
done

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

def load(x):
    r = {n: json.load(open(f"{w}/{x}/{n}.json")) for n in NAMES}
    logs = "".join(open(f).read() for f in glob.glob(f"{w}/{x}/*.log"))
    m = re.search(r"SSRCs common ([0-9a-f]{8}) n-1 ([0-9a-f,]+)", logs)
    common = int(m[1], 16) if m else -1
    n1 = [int(s, 16) for s in m[2].split(",")] if m else []
    return r, common, n1

def heard(src):  # the member tones detected in a stream (share >= 5 %)
    hz = {round(t["hz"]) for t in src["tones"]}
    return {n for n, f in TONE.items() if f in hz}

def common_checks(x, R, focus):
    own = {r["ssrc"] for r in R.values()}
    for n, r in R.items():
        rx = r["received"]
        check(rx["failed"] == 0 and rx["unknown_mki"] == 0 and
              rx["decrypted"] > 0,
              f"{x}: {n}: decrypted {rx['decrypted']}, failed "
              f"{rx['failed']}, unknown MKI {rx['unknown_mki']}")
        srcs = [s["ssrc"] for s in r["sources"]]
        check(srcs and all(s in focus and s not in own for s in srcs),
              f"{x}: {n} heard only the mixer's SSRCs "
              f"{[s['ssrc_hex'] for s in r['sources']]}")
        tones = set().union(*[heard(s) for s in r["sources"]])
        check(n not in tones, f"{x}: {n} does not hear its own tone "
              f"(heard {sorted(tones)})")

# ---- A: speakers=4: everyone hears everyone else, no gap over rekeys
R, common, n1 = load("a")
focus = {common, *n1}
check(len(n1) == 4 and len(focus) == 5, f"a: 5 distinct mixer SSRCs")
common_checks("a", R, focus)
for n, r in R.items():
    tones = set().union(*[heard(s) for s in r["sources"]])
    want = set(NAMES) - {n}
    check(tones == want, f"a: {n} hears {sorted(tones)} (want "
          f"{sorted(want)})")
    for s in r["sources"]:
        if s["packets"] >= 20:
            check(s["lost"] == 0, f"a: {n} <- {s['ssrc_hex']}: "
                  f"{s['packets']} of {s['expected']} packets, none lost")
main = max(R["alice"]["sources"], key=lambda s: s["packets"])
mkis = [m["mki"] for m in main["per_mki"] if m["packets"]]
check(len(mkis) >= 3 and main["lost"] == 0,
      f"a: alice's mix ran under {len(mkis)} MKIs {mkis} (>= 3) with "
      f"no gap ({main['lost']} lost)")
check(main["ssrc"] in n1, "a: alice (a speaker) got an N-1 stream")

# ---- B: speakers=3: Dave, the fourth voice, is left out of every mix
R, common, n1 = load("b")
focus = {common, *n1}
check(len(n1) == 3 and len(focus) == 4, f"b: 4 distinct mixer SSRCs")
common_checks("b", R, focus)
for n, r in R.items():
    for s in r["sources"]:
        h = heard(s)
        check(len(h) <= 3 and "dave" not in h,
              f"b: {n} <- {s['ssrc_hex']}: {sorted(h)} (<= 3, no dave)")
dc = [s for s in R["dave"]["sources"] if s["ssrc"] == common]
check(bool(dc) and heard(dc[0]) == {"alice", "bob", "carol"},
      f"b: dave hears the common mix with alice, bob, carol "
      f"({sorted(heard(dc[0])) if dc else 'no common stream'})")
for m in (dc[0]["per_mki"] if dc else []):
    hz = {round(t["hz"]) for t in m["tones"]}
    k = {n for n, f in TONE.items() if f in hz}
    check(len(k) <= 3 and "dave" not in k,
          f"b: common mix under {m['mki']}: {sorted(k)}")
for n in ("alice", "bob", "carol"):
    tones = set().union(*[heard(s) for s in R[n]["sources"]
                          if s["ssrc"] in n1])
    want = {"alice", "bob", "carol"} - {n}
    check(tones == want, f"b: {n} hears {sorted(tones)} on its N-1 SSRC "
          f"(want {sorted(want)})")
sys.exit(1 if bad else 0)
EOP

if cat "$W"/?/*.out "$W"/?/*.log | grep -Eqi '[0-9a-f]{32}'; then
	fail "output holds something key-like"
fi
[ "$FAIL" = 0 ] && { echo "all mixing checks passed"; exit 0; }
for x in a b; do
	for n in alice bob carol dave; do
		echo "--- $x/$n.out"
		tail -n 15 "$W/$x/$n.out"
	done
	for l in "$W/$x"/*.log; do
		echo "--- $l"
		grep -v DEBUG "$l" | tail -n 30
	done
done
exit 1
