#!/bin/bash
# bench_media_split.sh -- the split media plane under load (issue 7 §3,
# docs/PERFORMANCE.md "Split media plane"): `conclave bench confd` twice
# in one run, confd's media in-process and then in a conclave-mediad on
# this machine over mutual TLS (`media remote`, via --confd-extra), with
# the same phases: joins + rekeys (each join is an ADD and an SSRC table
# push on the control channel, each rekey an EPOCH, SWITCH and RETIRE)
# and the media fan-out through confd.
#
# usage: scripts/bench_media_split.sh [BUILD_DIR] [bench confd options...]
#   default options: --no-kamailio --members 100,1000 --sdes 0
# Run from the source root. Prints both reports (text) one after the other.
set -eu
B=${1:-build}
shift || true
OPTS=("$@")
[ ${#OPTS[@]} -gt 0 ] || OPTS=(--no-kamailio --members 100,1000 --sdes 0)
W=$(mktemp -d /tmp/bench-split.XXXXXX)
MPID=
cleanup() {
	[ -n "${KEEP:-}" ] && { echo "kept $W"; [ -n "$MPID" ] && kill "$MPID"; return; }
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

cert() { # name [ca]
	if [ $# = 1 ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -days 1 -subj "/CN=$1" -keyout "$W/$1.key" \
			-out "$W/$1.crt" 2>/dev/null
		return
	fi
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=$1" -keyout "$W/$1.key" -out "$W/$1.csr" 2>/dev/null
	openssl x509 -req -in "$W/$1.csr" -CA "$W/$2.crt" -CAkey "$W/$2.key" \
		-CAcreateserial -days 1 -out "$W/$1.crt" \
		-extfile <(printf 'subjectAltName=IP:127.0.0.1\n') 2>/dev/null
	cat "$W/$1.crt" "$W/$1.key" >"$W/$1.pem"
}
cert media-ca
cert mediad media-ca
cert confd media-ca
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$B/conclave-mediad" --listen "127.0.0.1:$PORT" --rtp 127.0.0.1 \
	--cert "$W/mediad.pem" --ca "$W/media-ca.crt" --log-level info \
	2>"$W/mediad.log" &
MPID=$!
for _ in $(seq 1 50); do
	grep -q "listening control TLS" "$W/mediad.log" 2>/dev/null && break
	sleep 0.1
done
printf 'media remote 127.0.0.1:%s\nmedia_cert %s\nmedia_ca %s\n' \
	"$PORT" "$W/confd.pem" "$W/media-ca.crt" >"$W/extra.conf"

echo "=== media in-process (the default) ==="
"$B/conclave" bench confd "${OPTS[@]}"
echo
echo "=== media in conclave-mediad (media remote, mutual TLS) ==="
"$B/conclave" bench confd "${OPTS[@]}" --confd-extra "$W/extra.conf"
# mediad's own CPU over the whole remote run (utime + stime, clock ticks)
read -r -a ST <"/proc/$MPID/stat"
echo "conclave-mediad CPU over the remote run: $(python3 -c "import os; print(round(($((ST[13] + ST[14]))) / os.sysconf('SC_CLK_TCK'), 2))") s"
