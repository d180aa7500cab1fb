#!/bin/bash
# confd_ops.sh -- the operations side of conclave-confd (issue 5 §1
# "Operations", "Ending a session"), against the real conclave-kmsd on
# loopback with the test UA (tests/confua):
#   - GET /metrics (Prometheus text) and /healthz on the `metrics` port;
#     another path is 404, another method 405; the values follow a
#     creation, a refused join (403, 488), a join and a leave, a rekey and
#     a member lost to the RTP timeout;
#   - a join over SIP/TLS (`tls`, `tls_cert`, a throwaway certificate):
#     Bob verifies confd's certificate against its CA, gets the group key
#     and Alice's media; with another CA the handshake fails;
#   - `rtp_timeout 3`: Carol joins with an RTP socket but never sends;
#     3-4 s after her join confd logs her as lost, sends her a BYE and
#     rekeys Alice, whose new epoch Carol never gets;
#   - `tls` without `tls_cert` is a configuration error (exit 2).
#
# usage: confd_ops.sh <conclave-binary> <build>/tests
# exit 77 (skip) if a binary, curl or openssl is missing.
set -u
CONCLAVE=$1
TESTS=$2
UA=$TESTS/confua
ENV_TAG=confdops
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD" "$UA"
for t in curl openssl; do
	command -v $t >/dev/null || {
		echo "skip: need $t"
		exit 77
	}
done

# ---- a throwaway certificate for confd's TLS listener, and a stranger -------
cert() { # name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$W/$1.key" -out "$W/$1.crt" >/dev/null 2>&1 &&
		cat "$W/$1.crt" "$W/$1.key" >"$W/$1.pem"
}
cert confd || fail "openssl: certificate"
cert stranger || fail "openssl: second certificate"

# ---- the KMS store and the daemons ---------------------------------------------
env_store alice bob carol mallory
KPORT=$(port)
SPORT=$(port)
TPORT=$(port)
MPORT=$(port)
env_creds "$KPORT" alice bob carol mallory
env_kmsd "$KPORT" || exit 1
env_confd "$SPORT" "idle_timeout 5" "log_level debug" \
	"metrics 127.0.0.1:$MPORT" "tls 127.0.0.1:$TPORT" \
	"tls_cert $W/confd.pem" "rtp_timeout 3" \
	"policy rekey-on=join,leave" "policy min-rekey-interval=200" \
	"policy grace=1s" "policy ack-deadline=5s" || exit 1
waitfor "$W/confd.log" "listening sip TLS 127.0.0.1:$TPORT" 50 &&
	ok "TLS listener up" || fail "no TLS listener"
"$CONFD" --help | grep -q -- '--rtp-timeout' && ok "--help names the keys" ||
	fail "--help"
rc=0
"$CONFD" --config /dev/null --tls 127.0.0.1:1 >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] && ok "tls without tls_cert: exit 2" || fail "tls alone: exit $rc"

ua() { # name args...
	local n=$1
	shift
	timeout 30 "$UA" --cred "$W/creds/$n.cred" --server "127.0.0.1:$SPORT" \
		--skew $SKEW "$@"
}
has() { grep -qx -- "$2" "$1"; }

# ---- /metrics -------------------------------------------------------------------
MURL=http://127.0.0.1:$MPORT
scrape() { curl -sf "$MURL/metrics" >"$W/m.$1" || fail "scrape $1"; }
val() { # step series -> value ("none" if absent)
	awk -v k="$2" '$1 == k { v = $2 } END { print v == "" ? "none" : v }' \
		"$W/m.$1"
}
expect() { # step series value
	local v
	v=$(val "$1" "$2")
	[ "$v" = "$3" ] && ok "$1: $2 = $3" || fail "$1: $2 = $v, want $3"
}
expect_ge() { # step series min
	local v
	v=$(val "$1" "$2")
	[ "$v" != none ] && [ "$v" -ge "$3" ] && ok "$1: $2 = $v >= $3" ||
		fail "$1: $2 = $v, want >= $3"
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

[ "$(curl -sf "$MURL/healthz")" = ok ] && ok "GET /healthz: ok" ||
	fail "healthz"
[ "$(code "$MURL/nope")" = 404 ] && ok "GET /nope: 404" || fail "not 404"
[ "$(code -X POST -d x "$MURL/metrics")" = 405 ] && ok "POST /metrics: 405" ||
	fail "POST not 405"
[ "$(code -X DELETE "$MURL/healthz")" = 405 ] &&
	ok "DELETE /healthz: 405" || fail "DELETE not 405"
curl -sI "$MURL/metrics" | grep -qi '^Allow: GET' && ok "HEAD: 405, Allow: GET" ||
	fail "no Allow header"
curl -sD - -o /dev/null "$MURL/metrics" |
	grep -qi '^Content-Type: text/plain; version=0.0.4' &&
	ok "Prometheus content type" || fail "content type"
scrape start
expect start confd_conferences_active 0
expect start confd_members_active 0
expect start confd_joins_accepted_total 0
expect start 'confd_joins_refused_total{code="403"}' 0
expect start 'confd_members_removed_total{reason="lost"}' 0
grep -q '^# TYPE confd_joins_accepted_total counter$' "$W/m.start" &&
	ok "TYPE lines" || fail "no TYPE line"

# ---- Alice creates (UDP) and speaks all along -------------------------------------
ua alice --allow "sip:bob@$REALM,sip:carol@$REALM" --rtp --send-ms 25000 \
	--wait-bye --guard 28000 --focus-out "$W/focus" invite "$FACTORY" \
	>"$W/alice.out" 2>&1 &
APID=$!
env_bg $APID
for _ in $(seq 1 100); do
	[ -s "$W/focus" ] && break
	sleep 0.05
done
FOCUS=$(cat "$W/focus" 2>/dev/null)
has "$W/alice.out" "status 200" && ok "create: 200 ($FOCUS)" || fail "create"
sleep 0.3
scrape created
expect created confd_conferences_active 1
expect created confd_members_active 1
expect created confd_conferences_created_total 1
expect created confd_joins_accepted_total 1
expect created confd_kms_requests_total 1

# ---- refused joins: Mallory 403, a tampered TRANSFER_INIT 488 -------------------
ua mallory invite "$FOCUS" >"$W/mallory.out" 2>&1
has "$W/mallory.out" "status 403" && ok "Mallory: 403" || fail "mallory"
ua carol --tamper invite "$FOCUS" >"$W/tamper.out" 2>&1
has "$W/tamper.out" "status 488" && ok "tampered: 488" || fail "tamper"
scrape refused
expect refused 'confd_joins_refused_total{code="403"}' 1
expect refused 'confd_joins_refused_total{code="488"}' 1
expect refused confd_joins_accepted_total 1
expect refused confd_members_active 1
expect refused confd_kms_requests_total 3
expect refused confd_kms_failures_total 0

# ---- Bob over TLS: a stranger's CA fails, confd's CA works ----------------------
timeout 10 "$UA" --cred "$W/creds/bob.cred" --server "127.0.0.1:$TPORT" \
	--skew $SKEW --tls --ca "$W/stranger.crt" --guard 4000 \
	invite "$FOCUS" >"$W/bob-bad.out" 2>&1
if ! grep -q '^status 200' "$W/bob-bad.out"; then
	ok "TLS with another CA: no session"
else
	fail "TLS accepted an unverified certificate"
	cat "$W/bob-bad.out"
fi
timeout 20 "$UA" --cred "$W/creds/bob.cred" --server "127.0.0.1:$TPORT" \
	--skew $SKEW --tls --ca "$W/confd.crt" --rtp --send-ms 1500 \
	--bye-after 1500 invite "$FOCUS" >"$W/bob.out" 2>&1
if has "$W/bob.out" "status 200" && has "$W/bob.out" "transfer-resp ok" &&
	grep -qxF "$(grep -m1 '^group-key' "$W/bob.out")" "$W/alice.out"; then
	ok "join over TLS: 200, TRANSFER_RESP opened, Alice's group key"
else
	fail "TLS join"
	cat "$W/bob.out"
fi
grep -q '^contact <sip:.*;transport=tls>;isfocus' "$W/bob.out" &&
	ok "TLS: Contact ;transport=tls" || fail "TLS contact"
grep -q '^media ok ' "$W/bob.out" && ok "TLS member hears Alice" ||
	fail "Bob got no media"
has "$W/bob.out" "bye 200" && ok "TLS leave: BYE -> 200" || fail "TLS bye"
sleep 0.3
scrape left
expect left confd_joins_accepted_total 2
expect left confd_members_active 1
expect left 'confd_members_removed_total{reason="left"}' 1
expect_ge left confd_rekeys_started_total 1
expect_ge left confd_media_forwarded_total 1

# ---- Carol joins and never sends: lost after rtp_timeout --------------------------
ua carol --rtp --wait-bye --guard 15000 invite "$FOCUS" >"$W/carol.out" 2>&1 &
CAPID=$!
env_bg $CAPID
t0=$(date +%s%N)
waitfor "$W/carol.out" "^status 200" 50 && ok "Carol joins (silent)" ||
	fail "Carol's join"
sleep 1.5
scrape carol
expect carol confd_members_active 2
expect carol 'confd_members_removed_total{reason="lost"}' 0
if waitfor "$W/carol.out" "^bye received" 80; then
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ $ms -ge 2500 ] && [ $ms -le 6500 ]; then
		ok "Carol got a BYE ${ms} ms after her INVITE"
	else
		fail "Carol's BYE after $ms ms (rtp_timeout 3)"
	fi
else
	fail "Carol got no BYE"
fi
wait "$CAPID" 2>/dev/null
grep -q "conference $FOCUS: sip:carol@$REALM: no SRTP for 3 s, removing it (lost)" \
	"$W/confd.log" && ok "confd logged Carol as lost" || fail "no lost line"
# the rekey that follows: a new epoch after the lost line, Alice acks it
sleep 1.2
LOST=$(grep -n "sip:carol@$REALM: no SRTP" "$W/confd.log" | head -1 | cut -d: -f1)
EP=$(tail -n +"${LOST:-1}" "$W/confd.log" |
	sed -n 's/.*: epoch \([0-9]*\) (MKI \(0x[0-9a-f]*\)) created.*/\2/p' |
	tail -1)
if [ -n "$EP" ] && grep -q "^group-key mki $EP " "$W/alice.out" &&
	tail -n +"$LOST" "$W/confd.log" |
	grep -q "sip:alice@$REALM acknowledged epoch"; then
	ok "rekey after the loss: Alice holds MKI $EP"
else
	fail "no rekey after the loss (MKI '${EP:-}')"
fi
if [ -n "$EP" ] && ! grep -q "mki $EP" "$W/carol.out"; then
	ok "Carol never got MKI $EP"
else
	fail "Carol has the post-loss epoch"
fi
scrape lost
expect lost 'confd_members_removed_total{reason="lost"}' 1
expect lost 'confd_members_removed_total{reason="left"}' 1
expect lost confd_members_active 1
expect lost confd_conferences_active 1
expect lost confd_joins_accepted_total 3
expect lost confd_reinvite_failures_total 0
expect lost confd_kms_requests_total 5
expect_ge lost confd_rekeys_started_total 3
expect_ge lost confd_rekeys_completed_total 3
has "$W/alice.out" "bye received" && fail "Alice (speaking) was removed" ||
	ok "Alice, who speaks, stays"

# ---- SIGTERM: Alice gets her BYE, exit 0 ------------------------------------------
kill -TERM "$CPID"
rc=0
wait "$CPID" || rc=$?
[ $rc = 0 ] && ok "SIGTERM: exit 0" || fail "confd exit $rc"
wait "$APID"
has "$W/alice.out" "bye received" && ok "SIGTERM: Alice got BYE" ||
	fail "Alice got no BYE"
if grep -Eqi 'psk *=|[0-9a-f]{32}' "$W/confd.log" "$W"/m.*; then
	fail "confd log or metrics hold something key-like"
else
	ok "no key material in confd's log or metrics"
fi

kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
if [ "$FAIL" = 0 ]; then
	echo "all confd ops checks passed"
	exit 0
fi
echo "--- confd.log"
tail -n 80 "$W/confd.log"
exit 1
