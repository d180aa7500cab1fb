# confenv.sh -- sourced by the conference integration tests: a KMS store
# with users, the conference factory/focus user and credentials, and the
# real conclave-kmsd and conclave-confd on loopback.
#
# The sourcing script sets CONCLAVE and TESTS (its two arguments) and
# ENV_TAG (names the temp dir), then calls:
#   env_need BINARY...            skip (exit 77) unless all are executable
#   env_store USER...             store, users sip:USER@example.org, the
#                                 focus user (factory + focus* pattern, key
#                                 supplier), alice allowed to create
#   env_creds KMS_PORT USER...    credential files in $W/creds, confd's too
#   env_kmsd PORT [LOG]           start a KMS on the store; $KPID
#   env_confd SIP_PORT [LINE...]  start confd (extra config lines); $CPID
# and uses fail / ok / port / kms / waitfor. Every process started through
# env_bg is killed on exit; $W is removed unless a check failed.

BUILD=$(dirname "$TESTS")
KMSD=$BUILD/conclave-kmsd
CONFD=$BUILD/conclave-confd
REALM=example.org
FACTORY=sip:factory.conf1@$REALM
SKEW=30
FAIL=0
ENV_PIDS=

env_need() {
	local b
	for b in "$@"; do
		if [ ! -x "$b" ]; then
			echo "skip: need $b"
			exit 77
		fi
	done
}

W=$(mktemp -d "/tmp/${ENV_TAG:-confit}.XXXXXX")

env_cleanup() {
	local p
	for p in $ENV_PIDS; do kill -9 "$p" 2>/dev/null; done
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap env_cleanup EXIT

fail() {
	echo "FAIL: $*"
	FAIL=1
}
ok() { echo "ok $*"; }

# A free port below the kernel's ephemeral range (32768-60999 here), where
# bind(0) and every client socket of the parallel tests take theirs: a port
# from bind(0), released and used a moment later, could meanwhile become
# some other test's source port ("Address already in use"). Free for both
# TCP and UDP at the time of the call.
port() {
	python3 -c '
import random, socket
for _ in range(200):
    p = random.randrange(10000, 32000)
    try:
        for t in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, t)
            s.bind(("127.0.0.1", p))
            s.close()
    except OSError:
        continue
    print(p)
    break
'
}

kms() {
	"$CONCLAVE" kms --db "sqlite:$W/kms.db" \
		--master-key-file "$W/master.key" "$@"
}

waitfor() { # file pattern tenths
	local _
	for _ in $(seq 1 "$3"); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Remember a background process for the cleanup.
env_bg() { ENV_PIDS="$ENV_PIDS $1"; }

env_store() {
	local u
	set -e
	kms init --create-master-key >/dev/null
	for u in "$@"; do
		kms user add "$u" --psk-id "$u-psk" --generate >/dev/null
		kms identity add "$u" "sip:$u@$REALM" >/dev/null
	done
	kms user add conf1-focus --psk-id conf1-psk --generate \
		--key-supplier >/dev/null
	kms identity add conf1-focus "$FACTORY" --factory >/dev/null
	kms identity add conf1-focus "sip:focus*.conf1@$REALM" >/dev/null
	kms policy allow-conference alice conf1-focus >/dev/null
	set +e
}

env_creds() { # kms-port users...
	local url=http://127.0.0.1:$1/mikey u
	shift
	mkdir -p "$W/creds"
	for u in "$@"; do
		kms credential export "$u" --identity "sip:$u@$REALM" \
			--kms-url "$url" --kms-identity "sip:kms.$REALM" \
			-o "$W/creds/$u.cred" >/dev/null || fail "export $u"
	done
	kms credential export conf1-focus --identity "$FACTORY" \
		--kms-url "$url" --kms-identity "sip:kms.$REALM" \
		-o "$W/creds/confd.cred" >/dev/null || fail "export conf1-focus"
}

env_kmsd() { # port [log]
	"$KMSD" --listen "127.0.0.1:$1" --db "sqlite:$W/kms.db" \
		--master-key-file "$W/master.key" --identity "sip:kms.$REALM" \
		--skew $SKEW >>"${2:-$W/kmsd.log}" 2>&1 &
	KPID=$!
	env_bg $KPID
	local _
	for _ in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0
		sleep 0.05
	done
	fail "conclave-kmsd did not come up on port $1"
	return 1
}

env_confd() { # sip-port [config lines...]
	local sport=$1 line
	shift
	{
		echo "udp 127.0.0.1:$sport"
		echo "tcp 127.0.0.1:$sport"
		echo "factory $FACTORY"
		echo "credential $W/creds/confd.cred"
		echo "skew $SKEW"
		for line in "$@"; do echo "$line"; done
	} >"$W/confd.conf"
	"$CONFD" --config "$W/confd.conf" >"$W/confd.log" 2>&1 &
	CPID=$!
	env_bg $CPID
	waitfor "$W/confd.log" "listening sip TCP" 100 && return 0
	fail "conclave-confd did not come up"
	cat "$W/confd.log"
	return 1
}

# env_ua NAME DURATION ARGS...: `conclave ua` in the background against
# the confd at $SPORT (skew, --report $W/NAME.json, output $W/NAME.out,
# --grace ${UA_GRACE:-2000}); its stdin is a FIFO kept open, so env_say
# NAME LINE types a command; its PID is in PID_NAME.
env_ua() {
	local n=$1 d=$2 fd
	shift 2
	mkfifo "$W/$n.in"
	timeout 70 "$CONCLAVE" ua --cred "$W/creds/$n.cred" \
		--server "127.0.0.1:$SPORT" --skew $SKEW --duration "$d" \
		--report "$W/$n.json" --grace "${UA_GRACE:-2000}" "$@" \
		<"$W/$n.in" >"$W/$n.out" 2>&1 &
	env_bg $!
	eval "PID_$n=$!"
	exec {fd}>"$W/$n.in"
	eval "FD_$n=$fd"
}

env_say() { # name line
	local fd
	eval "fd=\$FD_$1"
	echo "$2" >&"$fd"
}

# Certificates for the tests' TLS channels, in $W: env_ca NAME makes a
# self-signed CA (NAME.crt, NAME.key); env_leaf NAME CA makes NAME.pem
# (certificate + key) signed by CA, for IP:127.0.0.1.
env_ca() { # name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 1 -subj "/CN=$1" -keyout "$W/$1.key" -out "$W/$1.crt" \
		>/dev/null 2>&1
}
env_leaf() { # name ca
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=$1" -keyout "$W/$1.key" -out "$W/$1.csr" \
		>/dev/null 2>&1 &&
		openssl x509 -req -in "$W/$1.csr" -CA "$W/$2.crt" \
			-CAkey "$W/$2.key" -CAcreateserial -days 1 \
			-extfile <(printf 'subjectAltName=IP:127.0.0.1\n') \
			-out "$W/$1.crt" >/dev/null 2>&1 &&
		cat "$W/$1.crt" "$W/$1.key" >"$W/$1.pem"
}

# The media plane under test: confd's in-process switch and mixer (the
# default), or, with CONCLAVE_TEST_MEDIA=remote in the environment (ctest
# runs the mixing and SDES tests both ways), a conclave-mediad that the
# confd drives over mutual TLS (issue 7 §3). env_media DIR starts one
# mediad for one confd (its log DIR/mediad.log) and sets MEDIA_LINES
# (confd config lines: none in-process) and MEDIA_LOG (where the mixer
# logs: DIR/mediad.log, or DIR/confd.log in-process).
env_media() { # dir
	local d=$1 mport tag
	MEDIA_LINES=()
	MEDIA_LOG=$d/confd.log
	[ "${CONCLAVE_TEST_MEDIA:-}" = remote ] || return 0
	env_need "$BUILD/conclave-mediad"
	command -v openssl >/dev/null || {
		echo "skip: need openssl"
		exit 77
	}
	mkdir -p "$d"
	tag=$(basename "$d")
	[ -f "$W/media-ca.crt" ] || env_ca media-ca || fail "openssl: media CA"
	{ env_leaf "mediad-$tag" media-ca && env_leaf "confd-m-$tag" media-ca; } ||
		fail "openssl: media certificates"
	mport=$(port)
	"$BUILD/conclave-mediad" --listen "127.0.0.1:$mport" --rtp 127.0.0.1 \
		--cert "$W/mediad-$tag.pem" --ca "$W/media-ca.crt" \
		--log-level debug >"$d/mediad.log" 2>&1 &
	env_bg $!
	waitfor "$d/mediad.log" "listening control TLS" 50 ||
		fail "conclave-mediad did not come up: $(cat "$d/mediad.log")"
	MEDIA_LOG=$d/mediad.log
	MEDIA_LINES=("media remote 127.0.0.1:$mport"
		"media_cert $W/confd-m-$tag.pem" "media_ca $W/media-ca.crt")
	echo "media plane: conclave-mediad on 127.0.0.1:$mport (mutual TLS)"
}
