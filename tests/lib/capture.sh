# capture.sh -- sourced by the tests that capture confd's SIP on lo and
# resend doctored copies (ua_switch_hostile.sh, confd_owner_hostile.sh).
#
#   cap_need                 skip (exit 77) without tshark, dumpcap, python3
#   cap_netns VAR "$0" "$@"  re-run the script in a network namespace of its
#                            own (if unshare works), so no other test's SIP
#                            reaches the capture; VAR marks the second run
# then, after confenv.sh:
#   cap_start FILTER FILE    dumpcap on lo into FILE ($CAP_PID); skip (77)
#                            if dumpcap lacks the permission, fail if it
#                            does not start; the EXIT trap stops it

cap_need() {
	local t
	for t in tshark dumpcap python3; do
		if ! command -v $t >/dev/null 2>&1; then
			echo "skip: $t is not installed (scripts/deps.sh installs it)"
			exit 77
		fi
	done
}

cap_netns() { # marker-var script args...
	local var=$1
	shift
	if [ -z "${!var:-}" ] && command -v unshare >/dev/null &&
		command -v ip >/dev/null && unshare -n true 2>/dev/null; then
		export "$var"=1
		exec unshare -n bash -c 'ip link set lo up && exec bash "$0" "$@"' \
			"$@"
	fi
}

CAP_PID=
cap_cleanup() {
	if [ -n "$CAP_PID" ]; then
		kill -INT "$CAP_PID" 2>/dev/null
		wait "$CAP_PID" 2>/dev/null
	fi
	env_cleanup
}

cap_start() { # filter file
	local _
	trap cap_cleanup EXIT
	dumpcap -i lo -f "$1" -w "$2" >"$W/dumpcap.log" 2>&1 &
	CAP_PID=$!
	for _ in $(seq 1 50); do
		grep -q "^File:" "$W/dumpcap.log" 2>/dev/null && break
		kill -0 $CAP_PID 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 $CAP_PID 2>/dev/null || ! grep -q "^File:" "$W/dumpcap.log"; then
		CAP_PID=
		echo "dumpcap: $(cat "$W/dumpcap.log")"
		if grep -Eqi "permission|not permitted|capabilit|privilege" \
			"$W/dumpcap.log"; then
			echo "skip: dumpcap cannot capture on lo here (needs root" \
				"or CAP_NET_RAW+CAP_NET_ADMIN)"
			exit 77
		fi
		fail "dumpcap did not start"
		exit 1
	fi
}
