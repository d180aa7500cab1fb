#!/bin/bash
# kms_integration.sh -- the KMS over real HTTP(S) on loopback (issue 3 §6):
# a store set up with `conclave kms`, the real conclave-kmsd, and the KMS
# client (tests/kmsit) doing the protocol: happy path, key forking,
# patterns, every KMS error with its MIKEY Error number (the daemon keeps
# serving after each), garbage / truncated / oversized bodies, a slow
# client, HTTPS, and a kill -9 restart after which users, policies, ticket
# keys and the audit log are still there and an older ticket resolves.
#
# usage: kms_integration.sh <conclave-binary> <build>/tests
# exit 77 (skip) if conclave-kmsd or kmsit were not built.
set -u

CONCLAVE=$1
TESTS=$2
KMSD=$(dirname "$TESTS")/conclave-kmsd
KMSIT=$TESTS/kmsit
SKEW=2
REALM=example.org

if [ ! -x "$KMSD" ] || [ ! -x "$KMSIT" ] || [ ! -x "$CONCLAVE" ]; then
	echo "skip: need $KMSD, $KMSIT and $CONCLAVE"
	exit 77
fi

W=$(mktemp -d /tmp/kmsit.XXXXXX)
PID=
FAIL=0
SLOW_FD=

cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	[ -n "$SLOW_FD" ] && exec 9>&-
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	echo "$*" >>"$W/failures"
	FAIL=1
}

ok() { echo "ok $*"; }

kms() {
	"$CONCLAVE" kms --db "sqlite:$W/kms.db" \
		--master-key-file "$W/master.key" "$@"
}

# A free port on loopback.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	echo $((20000 + RANDOM % 20000)))
URL=http://127.0.0.1:$PORT/mikey

start_kmsd() {
	"$KMSD" --listen "127.0.0.1:$PORT" --db "sqlite:$W/kms.db" \
		--master-key-file "$W/master.key" \
		--identity "sip:kms.$REALM" --skew "$SKEW" "$@" \
		>>"$W/kmsd.log" 2>&1 &
	PID=$!
	for _ in $(seq 1 100); do
		if curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	fail "conclave-kmsd did not come up"
	cat "$W/kmsd.log"
	exit 1
}

alive() {
	if ! curl -sf --max-time 2 "http://127.0.0.1:$PORT/healthz" >/dev/null; then
		fail "daemon not serving after $1"
		return 1
	fi
}

# ---- the store, set up the way an operator does ---------------------------
set -e
kms init --create-master-key >/dev/null
for u in alice bob carol; do
	kms user add $u --psk-id "$u-psk" --generate >/dev/null
	kms identity add $u "sip:$u@$REALM" >/dev/null
done
for n in 1 2; do
	kms user add conf$n-focus --psk-id "conf$n-psk" --generate \
		--key-supplier >/dev/null
	kms identity add conf$n-focus "sip:factory.conf$n@$REALM" --factory \
		>/dev/null
	kms identity add conf$n-focus "sip:focus*.conf$n@$REALM" >/dev/null
	kms policy allow-conference alice conf$n-focus >/dev/null
done
export_creds() { # dir url
	mkdir -p "$1"
	for c in alice:sip:alice@$REALM:alice bob:sip:bob@$REALM:bob \
		carol:sip:carol@$REALM:carol \
		conf1-focus:sip:focus17.conf1@$REALM:focus1 \
		conf2-focus:sip:focus17.conf2@$REALM:focus2; do
		u=${c%%:*}
		rest=${c#*:}
		id=${rest%:*}
		kms credential export "$u" --identity "$id" --kms-url "$2" \
			--kms-identity "sip:kms.$REALM" -o "$1/${c##*:}.cred" \
			>/dev/null
	done
}
export_creds "$W/creds" "$URL"
set +e
[ "$(stat -c %a "$W/creds/alice.cred")" = 600 ] || fail "credential not 0600"

start_kmsd

# ---- the protocol ----------------------------------------------------------
"$KMSIT" --skew $SKEW flow "$W/creds" || fail "kmsit flow"
alive "the flow"
"$KMSIT" --skew $SKEW errors "$W/creds" || fail "kmsit errors"
alive "the error suite"

# ---- hostile bodies: each answered, the daemon keeps serving -------------
for what in garbage truncated; do
	out=$("$KMSIT" post "$URL" $what)
	case "$out" in
	"http 200 mikey 12 "*) ok "$what body: $out" ;;
	*) fail "$what body: $out (want http 200 mikey 12)" ;;
	esac
	alive "$what body"
done
out=$("$KMSIT" post "$URL" oversized)
case "$out" in
"http 413 "* | "http 0 "*) ok "oversized body refused: $out" ;;
*) fail "oversized body: $out (want 413 or a closed connection)" ;;
esac
alive "an oversized body"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	-H 'Content-Type: text/plain' --data 'hello' "$URL")
[ "$code" -ge 400 ] && ok "wrong content type: HTTP $code" ||
	fail "wrong content type: HTTP $code"
alive "a wrong content type"

# ---- a slow client does not stall the others -------------------------------
exec 9<>"/dev/tcp/127.0.0.1/$PORT" && SLOW_FD=9
printf 'POST /mikey HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Len' >&9
t0=$(date +%s%N)
"$KMSIT" --skew $SKEW request "$W/creds" "$W/slow.bin" >/dev/null ||
	fail "request while a slow client holds a connection"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
[ $ms -lt 2000 ] && ok "served in $ms ms while a client dawdles" ||
	fail "served in $ms ms while a client dawdles"
exec 9>&- && SLOW_FD=

# ---- HTTPS -------------------------------------------------------------------
if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$W/tls.key" \
	-out "$W/tls.crt" >/dev/null 2>&1; then
	cat "$W/tls.crt" "$W/tls.key" >"$W/tls.pem"
	chmod 600 "$W/tls.pem"
	SPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	kill "$PID" && wait "$PID" 2>/dev/null
	start_kmsd --https "127.0.0.1:$SPORT" --tls-cert "$W/tls.pem"
	export_creds "$W/tls-creds" "https://127.0.0.1:$SPORT/mikey"
	if "$KMSIT" --skew $SKEW --ca "$W/tls.crt" call "$W/tls-creds" \
		>"$W/https.out" 2>&1; then
		ok "HTTPS: request, resolve, transfer with the CA file"
	else
		fail "HTTPS"
		cat "$W/https.out"
	fi
	# a server our CA file does not vouch for is refused
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 \
		-subj "/CN=127.0.0.1" -keyout "$W/other.key" \
		-out "$W/other.crt" >/dev/null 2>&1
	if "$KMSIT" --skew $SKEW --ca "$W/other.crt" call "$W/tls-creds" \
		>"$W/https-bad.out" 2>&1; then
		fail "HTTPS accepted a certificate from an untrusted CA"
	elif grep -q 'certificate not verified' "$W/https-bad.out"; then
		ok "HTTPS: an untrusted server certificate is refused"
	else
		fail "HTTPS with a wrong CA failed oddly"
		cat "$W/https-bad.out"
	fi
	alive "a refused TLS client"
else
	echo "skip HTTPS: openssl could not make a certificate"
fi

# ---- restart: kill -9 between two requests ----------------------------------
"$KMSIT" --skew $SKEW request "$W/creds" "$W/ticket.bin" ||
	fail "request before the restart"
kms user list >"$W/users.before"
kms policy list >"$W/policy.before"
kms audit tail -n 1000 >"$W/audit.before"
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=
start_kmsd
"$KMSIT" --skew $SKEW redeem "$W/creds" "$W/ticket.bin" ||
	fail "a ticket issued before the restart did not resolve after it"
kms user list >"$W/users.after"
kms policy list >"$W/policy.after"
kms audit tail -n 1000 >"$W/audit.after"
cmp -s "$W/users.before" "$W/users.after" && ok "users survived kill -9" ||
	fail "users changed across the restart"
cmp -s "$W/policy.before" "$W/policy.after" &&
	ok "policies survived kill -9" || fail "policies changed"
n=$(wc -l <"$W/audit.before")
if [ "$n" -gt 0 ] && head -n "$n" "$W/audit.after" | cmp -s - "$W/audit.before" ||
	grep -Fqf "$W/audit.before" "$W/audit.after"; then
	ok "audit log survived kill -9 ($n records, $(wc -l <"$W/audit.after") now)"
else
	fail "audit records lost across the restart"
fi
[ "$(wc -l <"$W/audit.after")" -gt "$n" ] ||
	fail "no audit record for the resolve after the restart"
alive "the restart"

kill "$PID" && wait "$PID" 2>/dev/null
PID=
if [ "$FAIL" = 0 ]; then
	echo "all KMS integration checks passed"
	exit 0
fi
echo "--- kmsd.log"
tail -n 40 "$W/kmsd.log"
echo "--- failed:"
cat "$W/failures"
exit 1
