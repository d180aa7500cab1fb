# kamtls.sh -- sourced (after confenv.sh) by the tests that put TLS-only
# confd focus nodes behind Kamailio over SIP/TLS (etc/kamailio-dispatch.cfg
# -A WITH_TLS, docs/DEPLOY.md "SIP over TLS through Kamailio"). The test
# calls kam_need (skip, exit 77, unless kamailio, its tls module, openssl
# and ss are here; sets KAMAILIO and CFG, the shipped
# etc/kamailio-dispatch.cfg), sets KAM (the proxy's TLS port) and makes
# $W/sip-ca.crt and $W/kamailio.{crt,key} (env_ca, env_leaf); then:
#   kam_node TAG PORT [LINE...]  a confd node listening on TLS only
#                                ($W/TAG.conf, $W/TAG.log), extra config
#                                lines after the common ones; $NPID
#   kam_start                    Kamailio on tls:127.0.0.1:$KAM with
#                                $W/dispatcher.list and the shipped
#                                etc/kamailio-tls.cfg (this run's paths);
#                                returns once it answers an OPTIONS over
#                                TLS with a certificate that verifies
#                                against $W/sip-ca.crt; $KAMPID

kam_need() {
	local f t tlsmod=
	KAMAILIO=$(command -v kamailio || ls /usr/sbin/kamailio 2>/dev/null)
	CFG=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/etc/kamailio-dispatch.cfg
	if [ -z "$KAMAILIO" ] || [ ! -x "$KAMAILIO" ]; then
		echo "skip: kamailio is not installed"
		FAIL=0
		exit 77
	fi
	for f in /usr/lib/*/kamailio/modules/tls.so \
		/usr/lib*/kamailio/modules/tls.so; do
		[ -f "$f" ] && tlsmod=$f
	done
	if [ -z "$tlsmod" ]; then
		echo "skip: kamailio has no tls module (Debian: kamailio-tls-modules)"
		FAIL=0
		exit 77
	fi
	for t in openssl ss; do
		command -v $t >/dev/null || {
			echo "skip: need $t"
			FAIL=0
			exit 77
		}
	done
}

kam_node() { # tag port [config lines...]
	local tag=$1 p=$2 line
	shift 2
	{
		echo "udp off"
		echo "tcp off"
		echo "tls 127.0.0.1:$p"
		echo "tls_cert $W/$tag.pem"
		echo "factory $FACTORY"
		echo "node $tag"
		echo "credential $W/creds/confd.cred"
		echo "skew $SKEW"
		echo "idle_timeout 5"
		echo "log_level debug"
		for line in "$@"; do echo "$line"; done
	} >"$W/$tag.conf"
	"$CONFD" --config "$W/$tag.conf" >"$W/$tag.log" 2>&1 &
	NPID=$!
	env_bg $NPID
	waitfor "$W/$tag.log" "listening sip TLS" 100 ||
		fail "confd node $tag did not come up: $(tail -3 "$W/$tag.log")"
}

kam_start() {
	local up= _
	mkdir -p "$W/kam"
	# the tls profiles of etc/kamailio-tls.cfg, with this run's paths
	sed -e "s|/etc/conclave/kamailio.crt|$W/kamailio.crt|" \
		-e "s|/etc/conclave/kamailio.key|$W/kamailio.key|" \
		-e "s|/etc/conclave/nodes-ca.crt|$W/sip-ca.crt|" \
		"$(dirname "$CFG")/kamailio-tls.cfg" >"$W/kamailio-tls.cfg"
	"$KAMAILIO" -f "$CFG" -DD -E -l "tls:127.0.0.1:$KAM" \
		-A WITH_TLS -A "TLS_CFG=\"$W/kamailio-tls.cfg\"" \
		-A "DS_LIST=\"$W/dispatcher.list\"" -A DS_PING=1 -A FR_TIMER=1000 \
		-m 256 -M 16 -w "$W/kam" -Y "$W/kam" >"$W/kamailio.log" 2>&1 &
	KAMPID=$!
	env_bg $KAMPID
	for _ in $(seq 1 50); do
		kill -0 $KAMPID 2>/dev/null || break
		if python3 - "$KAM" "$W/sip-ca.crt" <<'EOP' 2>/dev/null; then
import socket, ssl, sys
p = int(sys.argv[1])
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.check_hostname = False
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", p), timeout=1))
lp = s.getsockname()[1]
m = (f"OPTIONS sip:127.0.0.1:{p};transport=tls SIP/2.0\r\n"
     f"Via: SIP/2.0/TLS 127.0.0.1:{lp};branch=z9hG4bK-probe{lp}\r\n"
     f"From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1:{p}>\r\n"
     f"Call-ID: probe{lp}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 5\r\n"
     f"Content-Length: 0\r\n\r\n")
s.sendall(m.encode())
sys.exit(0 if s.recv(4096).startswith(b"SIP/2.0 200") else 1)
EOP
			up=1
			break
		fi
		sleep 0.1
	done
	if [ -z "$up" ]; then
		fail "kamailio did not come up on TLS"
		tail -20 "$W/kamailio.log"
		return 1
	fi
}
