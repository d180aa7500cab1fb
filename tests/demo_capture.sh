#!/bin/bash
# demo_capture.sh -- issue 5 §5 "Interop, checked by tshark": `conclave
# demo` captured on lo by dumpcap, the capture judged by tshark (4.0.17,
# Debian 12) and by libsrtp with the demo's keys (exported, TEST ONLY,
# by `conclave demo --export-keys DIR`).
#
# usage: demo_capture.sh <conclave-binary> <build>/tests
# exit 0 pass, 1 fail, 77 skip (no tshark/dumpcap, or dumpcap cannot
# capture on lo here: not root and no capture capability).
#
# SIP (tshark, decode-as SIP on the demo's confd port, MIKEY dissector off
# because it throws on RFC 6043 messages: see interop_tshark.sh):
#   - every request but ACK gets a final response; every INVITE a final
#     response and an ACK from the INVITE's sender; every BYE a 200;
#   - every response answers a request seen before (Call-ID, CSeq number
#     and method) and goes back the way the request came;
#   - per Call-ID and sender (From tag) CSeq numbers of new transactions
#     strictly increase; in-dialog requests carry the dialog's two tags;
#   - no 4xx/5xx/6xx except one 403, to Mallory's INVITE, which has no SDP;
#   - a=key-mgmt:mikey in every INVITE (TRANSFER_INIT, MIKEY data type
#     14), every 200 to an INVITE (TRANSFER_RESP, 15), every re-INVITE
#     (the rekeys: CSB update TRANSFER_INIT) and its 200; one CSB ID per
#     dialog; at least one rekey re-INVITE for each of the four members;
#     four BYEs (Carol's leave, the focus ending the call with the others).
# SRTP (conclave srtp check, libsrtp srtp_unprotect_mki on a session with
# every exported master key): every packet to or from the conference's
# RTP port (from the SDP answer) carries an MKI that some participant
# installed, its tag verifies under that epoch's key, no packet is
# captured before its epoch was installed or after any participant
# retired it. Every epoch of the demo's timeline carried traffic.
# The checker is shown to fail on a flipped tag bit, on a missing key
# and on an earlier retire (so a PASS is not vacuous).
set -u

CONCLAVE=$1
BUILD=$(dirname "$CONCLAVE")
for b in "$BUILD/conclave-kmsd" "$BUILD/conclave-confd"; do
	if [ ! -x "$b" ]; then
		echo "SKIP: need $b"
		exit 77
	fi
done
for t in tshark dumpcap python3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "SKIP: $t is not installed (scripts/deps.sh installs it)"
		exit 77
	fi
done

# A network namespace of our own (root, or unprivileged user namespaces)
# keeps other tests' loopback traffic out of the capture; without one the
# shared lo is captured and the demo's ports are selected afterwards.
# DEMO_CAPTURE_NETNS=0 forces the shared lo.
if [ -z "${DEMO_CAPTURE_NETNS:-}" ] && command -v unshare >/dev/null &&
	command -v ip >/dev/null && unshare -n true 2>/dev/null; then
	export DEMO_CAPTURE_NETNS=1
	exec unshare -n bash -c 'ip link set lo up && exec bash "$0" "$@"' \
		"$0" "$@"
fi
if [ "${DEMO_CAPTURE_NETNS:-}" = 1 ]; then
	echo "capturing in a network namespace of our own (lo only ours)"
else
	echo "capturing on the shared lo (no network namespace)"
fi

FAIL=0
T0=$(date +%s.%N)
W=$(mktemp -d /tmp/demo-capture.XXXXXX) || exit 1
DP=
cleanup() {
	if [ -n "$DP" ]; then
		kill -INT "$DP" 2>/dev/null
		wait "$DP" 2>/dev/null
	fi
	# the key files are secrets, even test ones: always removed
	rm -rf "$W/keys"
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W (no keys)"; fi
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	FAIL=1
}
ok() { echo "ok $*"; }

# ---- capture --------------------------------------------------------------
# Other tests may run on lo at the same time: capture all UDP, select the
# demo's ports afterwards. -B: a big kernel buffer, so nothing is dropped.
dumpcap -i lo -f udp -B 32 -w "$W/demo.pcapng" >"$W/dumpcap.log" 2>&1 &
DP=$!
for _ in $(seq 1 50); do
	grep -q "^File:" "$W/dumpcap.log" 2>/dev/null && break
	kill -0 $DP 2>/dev/null || break
	sleep 0.1
done
if ! kill -0 $DP 2>/dev/null || ! grep -q "^File:" "$W/dumpcap.log"; then
	DP=
	echo "dumpcap: $(cat "$W/dumpcap.log")"
	if grep -Eqi "permission|not permitted|capabilit|privilege" \
		"$W/dumpcap.log"; then
		echo "SKIP: dumpcap cannot capture on lo here (needs root or" \
			"CAP_NET_RAW+CAP_NET_ADMIN)"
		exit 77
	fi
	fail "dumpcap did not start"
	exit 1
fi
sleep 0.3

start=$(date +%s)
timeout 60 "$CONCLAVE" demo --seconds-per-step 2 --export-keys "$W/keys" \
	>"$W/demo.out" 2>"$W/demo.err"
rc=$?
took=$(($(date +%s) - start))
sleep 0.3
kill -INT $DP
wait $DP
DP=
sed -n '/^Checks:/q;p' "$W/demo.out"
grep "^verdict" "$W/demo.out"
echo "---"
case $rc in
0) ok "conclave demo --export-keys: exit 0 (${took} s)" ;;
1)
	echo "note: demo exit 1 (its own verdict; tests/demo.sh judges it):"
	# what stopped it: a failed check, or the script (e.g. a member slow
	# to exit)
	grep -h -E "^  FAIL|conclave demo: " "$W/demo.out" "$W/demo.err" |
		grep -v "WARNING: TEST ONLY"
	;;
*) fail "conclave demo exit $rc" && cat "$W/demo.err" ;;
esac
grep -q "WARNING: TEST ONLY: the participants export their SRTP keys" \
	"$W/demo.err" && ok "the demo warns that keys are exported" ||
	fail "no TEST ONLY warning from the demo"
grep -q "^Packets received/dropped on interface 'Loopback: lo': [0-9]*/0 " \
	"$W/dumpcap.log" && ok "dumpcap dropped nothing" ||
	echo "note: $(grep 'dropped' "$W/dumpcap.log")"

# ---- the key files ---------------------------------------------------------
for n in alice bob carol dave mallory; do
	f=$W/keys/$n.keys
	if [ ! -f "$f" ]; then
		fail "no $f"
		continue
	fi
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f mode $(stat -c %a "$f")"
done
[ "$(stat -c %a "$W/keys/alice.keys" 2>/dev/null)" = 600 ] &&
	ok "key files are 0600"
[ "$(grep -c '^install ' "$W/keys/mallory.keys" 2>/dev/null)" = 0 ] &&
	ok "mallory (refused) exported no key" || fail "mallory has keys"
# no key (hex of 16+ bytes) in anything the demo printed or logged
if grep -Eqi '[0-9a-f]{32}' "$W/demo.out" "$W/demo.err"; then
	fail "key-like hex in the demo's output"
else
	ok "no key material in the demo's output"
fi

SIP=$(sed -n 's/.*conclave-confd (SIP UDP+TCP) on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$W/demo.out")
if [ -z "$SIP" ]; then
	fail "no confd SIP port in the demo's output"
	exit 1
fi
echo "tshark: $(tshark -v 2>/dev/null | head -n 1); confd SIP port $SIP"

# ---- SIP --------------------------------------------------------------------
tshark -n -r "$W/demo.pcapng" -d "udp.port==$SIP,sip" \
	--disable-protocol mikey -Y "sip && udp.port==$SIP" -T fields \
	-E separator=/t -E occurrence=a -E aggregator=, \
	-e frame.number -e frame.time_epoch -e udp.srcport -e udp.dstport \
	-e sip.Method -e sip.Status-Code -e sip.Call-ID -e sip.CSeq.seq \
	-e sip.CSeq.method -e sip.from.user -e sip.from.tag -e sip.to.tag \
	-e sdp.key_mgmt.kmpid -e sdp.key_mgmt.data -e sdp.media.port \
	-e _ws.malformed >"$W/sip.tsv" 2>"$W/tshark.err" ||
	fail "tshark could not read the capture: $(cat "$W/tshark.err")"
# what tshark's own MIKEY dissector makes of the same messages
MIKEY_BAD=$(tshark -n -r "$W/demo.pcapng" -d "udp.port==$SIP,sip" \
	-Y "sip && udp.port==$SIP && _ws.malformed" 2>/dev/null | wc -l)

python3 - "$W/sip.tsv" "$MIKEY_BAD" "$SIP" >"$W/sip.out" <<'PY'
import collections
import sys

rows = []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    f += [""] * (16 - len(f))
    rows.append(dict(zip(
        ("frame", "t", "src", "dst", "method", "status", "callid", "cseq",
         "cmethod", "fuser", "ftag", "ttag", "kmpid", "kmdata", "mport",
         "malformed"), f)))
fails, info = [], []


def bad(msg):
    fails.append(msg)


reqs = collections.OrderedDict()   # (callid, cseq, method) -> first req
finals = collections.defaultdict(list)
acks = collections.defaultdict(list)
last_cseq = {}                     # (callid, from tag) -> last new CSeq
dialog_tags = {}                   # callid -> {tag, tag}
csb = collections.defaultdict(set)
retrans = 0
counts = collections.Counter()
media = {}                         # conference RTP port(s) from answers
for r in rows:
    fr = r["frame"]
    if r["malformed"]:
        bad("frame %s: SIP/SDP malformed" % fr)
    cid, cs, cm = r["callid"], r["cseq"], r["cmethod"]
    if not cid or not cs.isdigit() or not cm:
        bad("frame %s: Call-ID or CSeq missing" % fr)
        continue
    key = (cid, int(cs), cm)
    km = r["kmpid"] == "mikey"
    dtype = int(r["kmdata"][2:4], 16) if km and len(r["kmdata"]) >= 12 \
        else None
    if km:
        if r["kmdata"][:2] != "01":
            bad("frame %s: MIKEY version %s" % (fr, r["kmdata"][:2]))
        csb[cid].add(r["kmdata"][8:16])   # HDR: ver, type, next, V|PRF, CSB ID
    if r["method"]:
        m = r["method"]
        if cm != m:
            bad("frame %s: CSeq method %s for %s" % (fr, cm, m))
        if m == "ACK":
            acks[(cid, int(cs))].append(r)
            continue
        if key in reqs:
            retrans += 1
            continue
        reqs[key] = r
        counts[m] += 1
        side = (cid, r["ftag"])
        if side in last_cseq and int(cs) <= last_cseq[side]:
            bad("frame %s: CSeq %s not above %d" % (fr, cs, last_cseq[side]))
        last_cseq[side] = int(cs)
        if r["ttag"]:                        # in-dialog request
            tags = {r["ftag"], r["ttag"]}
            if cid in dialog_tags and dialog_tags[cid] != tags:
                bad("frame %s: tags %s, dialog %s" % (fr, tags,
                                                       dialog_tags[cid]))
        if m == "INVITE":
            re_inv = bool(r["ttag"])
            counts["re-INVITE" if re_inv else "initial INVITE"] += 1
            if not km:
                bad("frame %s: %s without a=key-mgmt:mikey"
                    % (fr, "re-INVITE" if re_inv else "INVITE"))
            elif dtype != 14:
                bad("frame %s: INVITE MIKEY data type %s, not "
                    "TRANSFER_INIT (14)" % (fr, dtype))
            else:
                counts["INVITE with key-mgmt TRANSFER_INIT"] += 1
        elif km:
            bad("frame %s: %s with key-mgmt" % (fr, m))
        continue
    st = int(r["status"])
    req = reqs.get(key)
    if req is None:
        bad("frame %s: %d for no request %s" % (fr, st, key))
        continue
    if (r["src"], r["dst"]) != (req["dst"], req["src"]):
        bad("frame %s: response not on the request's path" % fr)
    if st < 200:
        continue
    if finals[key] and finals[key][0]["status"] == r["status"]:
        retrans += 1
        continue
    finals[key].append(r)
    counts["%d %s" % (st, cm)] += 1
    if st >= 400:
        if st == 403 and cm == "INVITE" and req["fuser"] == "mallory" \
                and not req["ttag"]:
            if km:
                bad("frame %s: 403 with key-mgmt" % fr)
        else:
            bad("frame %s: %d to %s %s from %s" % (fr, st, cm, cs,
                                                   req["fuser"]))
    if 200 <= st < 300 and cm == "INVITE":
        if not req["ttag"]:
            dialog_tags[cid] = {r["ftag"], r["ttag"]}
        if not km:
            bad("frame %s: 200 to INVITE without a=key-mgmt:mikey" % fr)
        elif dtype != 15:
            bad("frame %s: 200 MIKEY data type %s, not TRANSFER_RESP (15)"
                % (fr, dtype))
        else:
            counts["200 with key-mgmt TRANSFER_RESP"] += 1
        if r["mport"] and r["src"] == sys.argv[3]:    # the focus's answer
            media[r["mport"]] = media.get(r["mport"], 0) + 1

by_dialog = collections.Counter()
for key, req in reqs.items():
    cid, cs, m = key
    fin = finals.get(key, [])
    if len(fin) != 1:
        bad("%s %s (frame %s): %d final responses" % (m, cs, req["frame"],
                                                     len(fin)))
        continue
    if m == "BYE" and fin[0]["status"] != "200":
        bad("BYE %s answered %s" % (cs, fin[0]["status"]))
    if m == "INVITE":
        a = [x for x in acks[(cid, cs)] if x["src"] == req["src"]]
        if not a:
            bad("INVITE %s (frame %s): no ACK" % (cs, req["frame"]))
        elif float(a[0]["t"]) < float(fin[0]["t"]):
            bad("INVITE %s: ACK before the final response" % cs)
        if req["ttag"]:
            by_dialog[cid] += 1
for cid, ids in csb.items():
    if len(ids) != 1:
        bad("Call-ID %s: %d CSB IDs in its MIKEY messages" % (cid, len(ids)))

users = collections.defaultdict(set)
for key, req in reqs.items():
    if key[2] == "INVITE" and not req["ttag"]:
        users[req["fuser"]].add(key[0])
for u in ("alice", "bob", "carol", "dave", "mallory"):
    if len(users[u]) != 1:
        bad("%s placed %d calls" % (u, len(users[u])))
for u in ("alice", "bob", "carol", "dave"):
    n = sum(by_dialog[c] for c in users[u])
    info.append("%s: %d rekey re-INVITE(s)" % (u, n))
    if n < 1:
        bad("%s's dialog has no rekey re-INVITE" % u)
if counts["403 INVITE"] != 1:
    bad("%d 403s (one expected, to mallory)" % counts["403 INVITE"])
if counts["BYE"] != 4 or counts["200 BYE"] != 4:
    bad("%d BYEs, %d answered 200 (4 expected)" % (counts["BYE"],
                                                   counts["200 BYE"]))
if len(media) != 1:
    bad("answers name %d conference RTP ports: %s" % (len(media), media))

print("SIP: %d messages on the confd port (%d retransmissions)"
      % (len(rows), retrans))
for k in ("initial INVITE", "re-INVITE", "INVITE with key-mgmt TRANSFER_INIT",
          "200 INVITE", "200 with key-mgmt TRANSFER_RESP", "403 INVITE",
          "BYE", "200 BYE"):
    print("  %-36s %d" % (k, counts[k]))
for x in info:
    print("  " + x)
print("  dialogs %d, one CSB ID each; tshark's MIKEY dissector marks %s of"
      " these frames malformed (RFC 6043, see interop_tshark.sh)"
      % (len(csb), sys.argv[2]))
for x in fails:
    print("FAIL: " + x)
print("RTP %s" % (list(media)[0] if len(media) == 1 else ""))
sys.exit(1 if fails else 0)
PY
src=$?
sed '/^RTP /d' "$W/sip.out"
[ $src = 0 ] && ok "SIP dialogs well formed, key-mgmt where expected" ||
	fail "SIP checks"
RTP=$(sed -n 's/^RTP \([0-9]*\)$/\1/p' "$W/sip.out")

# ---- SRTP -------------------------------------------------------------------
KEYS=()
for f in "$W"/keys/*.keys; do KEYS+=(--keys "$f"); done
if [ -z "$RTP" ]; then
	fail "no conference RTP port"
else
	tshark -n -r "$W/demo.pcapng" -Y "udp.port==$RTP" -T fields \
		-e frame.time_epoch -e udp.payload >"$W/rtp.txt" 2>/dev/null
	echo "SRTP: $(wc -l <"$W/rtp.txt") packets to/from the conference" \
		"port $RTP"
	"$CONCLAVE" srtp check "${KEYS[@]}" <"$W/rtp.txt" | tee "$W/srtp.out"
	[ "${PIPESTATUS[0]}" = 0 ] &&
		ok "every packet verified under an exported epoch; none early or late" ||
		fail "srtp check"
	"$CONCLAVE" srtp check "${KEYS[@]}" --json <"$W/rtp.txt" >"$W/srtp.json"
	# every epoch the timeline names carried traffic that verified
	for e in $(grep -o 'epoch [0-9]* (MKI' "$W/demo.out" | awk '{print $2}' |
		sort -un); do
		python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
e = [m for m in j["mki"] if m["epoch"] == int(sys.argv[2])]
sys.exit(0 if e and e[0]["verified"] > 0 and e[0]["exported"] else 1)
' "$W/srtp.json" "$e" && ok "epoch $e: verified traffic" ||
			fail "epoch $e: no verified traffic"
	done

	# the checker is not vacuous: a flipped tag bit, a missing key and an
	# earlier retire each fail
	awk 'NR == 10 { n = length($2); c = substr($2, n, 1);
		$2 = substr($2, 1, n - 1) (c == "0" ? "1" : "0") } 1' \
		OFS='\t' "$W/rtp.txt" >"$W/rtp-flip.txt"
	"$CONCLAVE" srtp check "${KEYS[@]}" --json <"$W/rtp-flip.txt" \
		>"$W/flip.json"
	frc=$?
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1]));
sys.exit(0 if j["failed"] >= 1 and not j["pass"] else 1)' "$W/flip.json" &&
		[ $frc = 1 ] && ok "a flipped tag bit fails (exit $frc)" ||
		fail "a flipped tag bit was not caught"
	"$CONCLAVE" srtp check --keys "$W/keys/dave.keys" <"$W/rtp.txt" \
		>"$W/dave-only.out"
	[ $? = 1 ] && grep -q "never exported" "$W/dave-only.out" &&
		ok "packets under epochs dave never had fail with dave's keys" ||
		fail "missing keys were not caught"
	first=$(awk 'NR == 1 { print $1 }' "$W/rtp.txt")
	# the busiest epoch, "retired" by a forged line at the first packet
	mki=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]));
print(max(j["mki"], key=lambda m: m["packets"])["mki"][2:])' "$W/srtp.json")
	cp "$W/keys/alice.keys" "$W/keys/early.keys"
	echo "retire $first mki=$mki ssrc=00000000" >>"$W/keys/early.keys"
	"$CONCLAVE" srtp check "${KEYS[@]}" --keys "$W/keys/early.keys" \
		--json <"$W/rtp.txt" >"$W/early.json"
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1]));
sys.exit(0 if j["after_retire"] >= 1 and not j["pass"] else 1)' \
		"$W/early.json" && ok "packets after a retire are caught" ||
		fail "an earlier retire was not caught"
fi

echo "capture $(stat -c %s "$W/demo.pcapng") bytes; test took" \
	"$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
if [ $FAIL = 0 ]; then
	echo "all demo capture checks passed"
	exit 0
fi
exit 1
