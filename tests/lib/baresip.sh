# baresip.sh -- sourced by tests that need a real third-party SIP phone:
# baresip 1.0.0 (Debian 12 package baresip-core 1.0.0-4+b3, libre 1.1.0),
# headless, SDES-SRTP (a=crypto, RTP/SAVP), no registrar, loopback only.
# Findings (suites, MKI, rekey, TLS) are in docs/INTEROP.md, "baresip".
#
# The sourcing script provides $W (a scratch dir it removes) and may
# provide fail() (used for harness errors; a plain echo otherwise). Every
# baresip started here is remembered in $BS_PIDS (and handed to env_bg
# when tests/lib/confenv.sh is loaded too); the sourcing script's EXIT
# trap calls bs_cleanup, which kills only those PIDs.
#
#   bs_need                       exit 77 unless baresip 1.x and its
#                                 modules are installed and run
#   bs_ports                      print a free base port P (P and P+1 free
#                                 on UDP and TCP: baresip binds TLS on P+1)
#   bs_config NAME SIP_PORT [KEY=VALUE...]
#                                 write $W/baresip-NAME/{config,accounts};
#                                 keys below; dir in $BS_DIR
#   bs_tls_cert DIR               self-signed cert+key for 127.0.0.1 in
#                                 DIR/cert.pem (sip_certificate and
#                                 sip_cafile of both sides)
#   bs_start NAME [ARGS...]       start it in the background; waits for
#                                 "baresip is ready."; PID in BS_PID_<NAME>
#   bs_cmd NAME COMMAND [PARAMS]  one ctrl_tcp command; prints the JSON
#                                 response (returns 1 if ok is not true)
#   bs_dial NAME URI              /dial; waits until the call is
#                                 established (returns 1 if not, in 10 s)
#   bs_hangup NAME                /hangup; waits for "terminated"
#   bs_call NAME URI SECONDS      dial, talk SECONDS, hang up
#   bs_stop NAME                  /quit; SIGTERM, then SIGKILL, if needed
#   bs_log NAME                   path of its log (stdout+stderr, -v -s)
#   bs_recorded NAME [enc|dec]    path of the newest sndfile dump: dec =
#                                 what it received and decoded (default),
#                                 enc = what it sent
#   bs_tone WAV FREQ [OTHER...]   Goertzel over the WAV: prints
#                                 "FREQ=ratio ..." (power of each
#                                 frequency / total power, 0..1) and
#                                 returns 1 unless FREQ has ratio >= 0.5
#                                 and is the strongest of those listed
#   bs_cleanup                    kill every baresip started here
#
# bs_config keys (defaults in brackets):
#   user=NAME          the account's user part [NAME]; AOR sip:user@HOST
#   host=HOST          the account's host part [127.0.0.1] (its From; no
#                      REGISTER, so any domain works for direct calls)
#   source=ausine,440  audio source [ausine,440]: "ausine,FREQ" (module
#                      ausine: 48 kHz stereo sine, 10..20000 Hz) or
#                      "aufile,/path.wav" (module aufile: source only in
#                      1.0.0; the WAV must be S16LE, 48000 Hz, 2 channels,
#                      i.e. ausrc_srate/ausrc_channels; it stops at EOF)
#   mediaenc=srtp-mand [srtp-mand]: SDES mandatory, m= proto RTP/SAVP;
#                      "srtp" = optional (RTP/AVP + a=crypto), "srtp-mandf"
#                      = RTP/SAVPF, "none" = no media encryption
#   codecs=PCMU/8000/1 account audio_codecs [PCMU/8000/1]
#   answermode=auto    [auto]: incoming calls are answered at once
#   ctrl=PORT          ctrl_tcp port [a free one]
#   rtp=LO-HI          rtp_ports [an even 100-port range picked free]
#   tls=DIR            load DIR/cert.pem as sip_certificate and
#                      sip_cafile (made by bs_tls_cert)
#   outbound=URI       the account's outbound proxy (every request of the
#                      account goes there, e.g. "sip:IP:PORT;transport=tls";
#                      the Request-URI stays the dialled URI) [none]
#
# Driving it (how this was worked out on baresip 1.0.0):
#   - `baresip -f DIR` reads DIR/config and DIR/accounts; -v verbose, -s
#     SIP trace (every message, with its SDP, is in the log); -t SECS would
#     quit after SECS, -e CMD runs a command at start ("/dial sip:...").
#   - ctrl_tcp: netstrings ("LEN:JSON,") on ctrl_tcp_listen, command
#     {"command":"dial","params":"sip:...","token":"t"}, response
#     {"response":true,"ok":true,"data":"...","token":"t"}; events
#     {"event":true,"type":"CALL_ESTABLISHED",...} go to connected clients.
#     Commands are the menu's long names: dial, hangup, reinvite, quit,
#     listcalls, callstat, accept, ...
#   - No audio device: audio_player empty, so the rx pipeline ends in
#     "(play)" with nothing behind it. baresip 1.0.0's aufile has no
#     player, so received audio is recorded by the sndfile module (an audio
#     filter): snd_path DIR gets dump-<time>-enc.wav (sent) and
#     dump-<time>-dec.wav (received, decoded), 8 kHz mono S16 for PCMU.
#   - net_interface 127.0.0.1: without it baresip picks eth0's address for
#     Contact and SDP (c=); "lo" fails ("could not get network address").
#   - TLS: baresip always binds SIP/TLS on sip_listen's port + 1 (and
#     fails to start if that port is taken); it accepts handshakes only
#     with sip_certificate set; as a client it needs no certificate and
#     does not verify the server's (docs/INTEROP.md). Dial TLS with
#     "sip:u@127.0.0.1:P+1;transport=tls".
#   - 1.0.0 knows sip_listen, sip_certificate, sip_cafile only: the later
#     sip_trans_def, sip_verify_server, sip_capath are ignored silently.

BS_PIDS=${BS_PIDS:-}
BS_TIMEOUT=${BS_TIMEOUT:-60} # hard limit on one baresip's life, seconds
BS_MODDIR=${BS_MODDIR:-/usr/lib/baresip/modules}

_bs_fail() {
	if declare -F fail >/dev/null; then fail "$@"; else echo "FAIL: $*"; fi
}

bs_need() {
	local m
	if ! command -v baresip >/dev/null 2>&1; then
		echo "SKIP: baresip is not installed" \
			"(apt-get install baresip-core; scripts/deps.sh)"
		exit 77
	fi
	for m in g711 ausine aufile sndfile srtp ctrl_tcp account menu; do
		if [ ! -f "$BS_MODDIR/$m.so" ]; then
			echo "SKIP: baresip module $BS_MODDIR/$m.so missing"
			exit 77
		fi
	done
	if ! command -v python3 >/dev/null 2>&1; then
		echo "SKIP: python3 is needed to drive baresip's ctrl_tcp"
		exit 77
	fi
	BS_VERSION=$(timeout 5 baresip -h 2>&1 | sed -n \
		's/^baresip v\([0-9.]*\).*/\1/p')
	if [ -z "$BS_VERSION" ]; then
		echo "SKIP: baresip does not run: $(timeout 5 baresip -h 2>&1 |
			head -n 1)"
		exit 77
	fi
	case $BS_VERSION in
	1.0.*) ;;
	*) echo "note: baresip $BS_VERSION; this harness was written for" \
		"1.0.0 (config keys may differ)" ;;
	esac
}

# A base port P with P and P+1 free on TCP and UDP (baresip: SIP UDP+TCP
# on P, TLS on P+1), or with $1 = N, N consecutive free ports.
bs_ports() {
	python3 - "${1:-2}" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(500):
    p = random.randrange(20000, 40000 - n)
    socks = []
    try:
        for q in range(p, p + n):
            for t in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(socket.AF_INET, t)
                socks.append(s)
                s.bind(("127.0.0.1", q))
        print(p)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
else:
    sys.exit(1)
EOF
}

bs_tls_cert() { # dir
	mkdir -p "$1"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$1/key.pem" -out "$1/crt.pem" >/dev/null 2>&1 ||
		return 1
	cat "$1/crt.pem" "$1/key.pem" >"$1/cert.pem"
	chmod 600 "$1/cert.pem" "$1/key.pem"
}

bs_config() { # name sip-port [key=value...]
	local name=$1 sport=$2 kv k v
	shift 2
	local user=$name source=ausine,440 mediaenc=srtp-mand
	local codecs=PCMU/8000/1 answermode=auto ctrl= rtp= tls= host=127.0.0.1
	local outbound=
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		case $k in
		user) user=$v ;;
		source) source=$v ;;
		mediaenc) mediaenc=$v ;;
		codecs) codecs=$v ;;
		answermode) answermode=$v ;;
		ctrl) ctrl=$v ;;
		rtp) rtp=$v ;;
		tls) tls=$v ;;
		host) host=$v ;;
		outbound) outbound=$v ;;
		*) _bs_fail "bs_config: unknown key $k" && return 1 ;;
		esac
	done
	[ -n "$ctrl" ] || ctrl=$(bs_ports 1) || return 1
	if [ -z "$rtp" ]; then
		v=$(bs_ports 100) || return 1
		v=$(((v + 1) / 2 * 2))
		rtp=$v-$((v + 98))
	fi
	BS_DIR=$W/baresip-$name
	mkdir -p "$BS_DIR"
	{
		cat <<EOF
# baresip $name -- written by tests/lib/baresip.sh for baresip 1.0.0
# (Debian 12 baresip-core 1.0.0-4). Every key below is read by 1.0.0.
poll_method		epoll
# SIP: UDP and TCP on this address, TLS on its port + 1
sip_listen		127.0.0.1:$sport
EOF
		if [ -n "$tls" ]; then
			cat <<EOF
# TLS: our certificate+key (PEM, one file) and the CA we trust
sip_certificate		$tls/cert.pem
sip_cafile		$tls/cert.pem
EOF
		fi
		cat <<EOF
# bind to loopback: else Contact and SDP c= name eth0's address
net_interface		127.0.0.1
# audio: "ausine,FREQ" or "aufile,WAV" as source, no player device
audio_source		$source
audio_player		
audio_alert		
ausrc_srate		48000
ausrc_channels		2
audio_level		no
rtp_ports		$rtp
rtp_stats		yes
jitter_buffer_delay	5-10
# at most 4 calls at once (the default too)
call_max_calls		4

module_path		$BS_MODDIR
# codecs: PCMU/PCMA, opus (the account's audio_codecs picks)
module			g711.so
module			opus.so
# sources: ausine (sine), aufile (WAV); sndfile records what is sent and
# received (snd_path), the only recorder in 1.0.0
module			ausine.so
module			aufile.so
module			sndfile.so
# media encryption: srtp, srtp-mand, srtp-mandf (SDES, RFC 4568)
module			srtp.so
# control: JSON in netstrings over TCP
module			ctrl_tcp.so
module_tmp		uuid.so
module_app		account.so
module_app		menu.so

snd_path		$BS_DIR
ctrl_tcp_listen		127.0.0.1:$ctrl
EOF
	} >"$BS_DIR/config"
	# regint=0: never REGISTER; mediaenc: SDES (a=crypto) per account;
	# answermode=auto: answer incoming calls at once.
	local me=""
	[ "$mediaenc" = none ] || me=";mediaenc=$mediaenc"
	[ -z "$outbound" ] || me="$me;outbound=\"$outbound\""
	echo "<sip:$user@$host>;regint=0$me;audio_codecs=$codecs;answermode=$answermode" \
		>"$BS_DIR/accounts"
	eval "BS_CTRL_$name=$ctrl"
	eval "BS_SIP_$name=$sport"
}

bs_log() { echo "$W/baresip-$1/baresip.log"; }

bs_start() { # name [args...]
	local name=$1 dir=$W/baresip-$1 pid c _
	shift
	local log=$dir/baresip.log
	# timeout -k: baresip once ignored SIGTERM during a stuck call.
	timeout -k 5 "$BS_TIMEOUT" baresip -f "$dir" -v -s "$@" \
		</dev/null >>"$log" 2>&1 &
	pid=$!
	BS_PIDS="$BS_PIDS $pid"
	declare -F env_bg >/dev/null && env_bg "$pid"
	eval "BS_PID_$name=$pid"
	for _ in $(seq 1 100); do
		if grep -q "^baresip is ready." "$log" 2>/dev/null; then
			# baresip itself, timeout's child: killed first on cleanup
			# (a SIGKILL to timeout alone would orphan it)
			c=$(ps -o pid= --ppid "$pid" | tr -d ' ')
			[ -n "$c" ] && BS_PIDS="$c $BS_PIDS"
			declare -F env_bg >/dev/null && [ -n "$c" ] &&
				env_bg "$c"
			eval "BS_CHILD_$name=$c"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	_bs_fail "baresip $name did not start"
	sed 's/^/  | /' "$log" | tail -n 20
	return 1
}

bs_cmd() { # name command [params]
	local port
	eval "port=\${BS_CTRL_$1:-}"
	python3 - "$port" "$2" "${3:-}" <<'EOF'
import json, socket, sys
port, cmd, params = int(sys.argv[1]), sys.argv[2], sys.argv[3]
req = {"command": cmd, "token": "bs"}
if params:
    req["params"] = params
body = json.dumps(req).encode()
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"%d:%s," % (len(body), body))
buf = b""
while True:
    # netstrings: LEN ":" JSON ","; skip events, stop at our response
    while b":" not in buf:
        d = s.recv(4096)
        if not d:
            sys.exit(2)
        buf += d
    n, rest = buf.split(b":", 1)
    n = int(n)
    while len(rest) < n + 1:
        d = s.recv(4096)
        if not d:
            sys.exit(2)
        rest += d
    msg, buf = json.loads(rest[:n]), rest[n + 1:]
    if msg.get("response"):
        print(json.dumps(msg))
        sys.exit(0 if msg.get("ok") else 1)
EOF
}

# Count of lines matching a pattern in NAME's log.
_bs_count() { grep -c -- "$2" "$(bs_log "$1")" 2>/dev/null; }

_bs_wait() { # name pattern min-count tenths
	local _
	for _ in $(seq 1 "$4"); do
		[ "$(_bs_count "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

bs_dial() { # name uri
	local n
	n=$(_bs_count "$1" "Call established")
	bs_cmd "$1" dial "$2" >/dev/null || {
		_bs_fail "baresip $1: dial $2 refused"
		return 1
	}
	_bs_wait "$1" "Call established" $((n + 1)) 100 && return 0
	_bs_fail "baresip $1: call to $2 not established in 10 s"
	return 1
}

bs_hangup() { # name
	local n
	n=$(_bs_count "$1" "terminated")
	bs_cmd "$1" hangup >/dev/null || {
		_bs_fail "baresip $1: hangup refused"
		return 1
	}
	_bs_wait "$1" "terminated" $((n + 1)) 50 && return 0
	_bs_fail "baresip $1: call not terminated in 5 s"
	return 1
}

bs_call() { # name uri seconds
	bs_dial "$1" "$2" || return 1
	sleep "$3"
	bs_hangup "$1"
}

bs_stop() { # name
	local pid child _
	eval "pid=\${BS_PID_$1:-}"
	[ -n "$pid" ] || return 0
	bs_cmd "$1" quit >/dev/null 2>&1
	for _ in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	# SIGTERM to timeout is passed on to baresip
	kill "$pid" 2>/dev/null && sleep 0.5
	eval "child=\${BS_CHILD_$1:-}"
	[ -n "$child" ] && kill -9 "$child" 2>/dev/null
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "BS_PID_$1= BS_CHILD_$1="
	return 0
}

bs_recorded() { # name [enc|dec]
	ls -t "$W/baresip-$1"/dump-*-"${2:-dec}".wav 2>/dev/null | head -n 1
}

bs_tone() { # wav freq [other freqs...]
	python3 - "$@" <<'EOF'
import math, struct, sys, wave
path, freqs = sys.argv[1], [float(f) for f in sys.argv[2:]]
w = wave.open(path, "rb")
rate, ch, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
raw = w.readframes(w.getnframes())
if width != 2:
    sys.exit("bs_tone: want 16-bit samples, got %d bytes" % width)
x = struct.unpack("<%dh" % (len(raw) // 2), raw)[::ch]
# skip the first and last 0.5 s (call set-up, jitter buffer, hang-up)
x = x[rate // 2: len(x) - rate // 2]
if len(x) < rate // 2:
    print("too short: %d samples at %d Hz" % (len(x), rate))
    sys.exit(1)
total = sum(v * v for v in x) or 1
out, ratio = [], {}
for f in freqs:
    # Goertzel over blocks of 0.1 s; power of a sine of amplitude A in a
    # block of N: (A*N/2)^2; the block's energy is A^2*N/2 -> ratio = 1
    n = rate // 10
    c = 2 * math.cos(2 * math.pi * f / rate)
    p = 0.0
    for b in range(0, len(x) - n + 1, n):
        s1 = s2 = 0.0
        for v in x[b:b + n]:
            s1, s2 = v + c * s1 - s2, s1
        p += (s1 * s1 + s2 * s2 - c * s1 * s2) * 2 / n
    ratio[f] = p / total
    out.append("%g=%.3f" % (f, ratio[f]))
print(" ".join(out))
f0 = freqs[0]
sys.exit(0 if ratio[f0] >= 0.5 and ratio[f0] == max(ratio.values()) else 1)
EOF
}

bs_cleanup() {
	local p
	for p in $BS_PIDS; do kill -9 "$p" 2>/dev/null; done
	BS_PIDS=
}
