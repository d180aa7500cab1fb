#!/usr/bin/env bash
# cli_mikey.sh -- drive the real `conclave mikey` binary with the messages of
# spec/worked-examples.md (copied below, so the test does not depend on the
# spec tree): decode in base64 / hex / binary / key-mgmt forms, JSON, key
# checks (right and wrong keys), ticket opening, bad input, `vectors`.
#
# usage: bash tests/cli_mikey.sh <path-to-conclave> <build-dir>
set -euo pipefail

BIN=${1:?usage: cli_mikey.sh <conclave> <build-dir>}
WORK=$(mktemp -d "${2:-/tmp}/cli_mikey.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

FAILS=0
PASSES=0
# Under -DCONCLAVE_SANITIZE=ON a sanitizer report must count as a crash
# (status >= 128), not as the decoder's ordinary status 1.
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=131}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:exitcode=132}

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

pass() {
	PASSES=$((PASSES + 1))
}

# run NAME ARGS...: run the binary, keep stdout+stderr in $OUT and the exit
# status in $RC; a status >= 128 (a signal: crash) always fails.
run() {
	local name=$1
	shift
	set +e
	"$BIN" "$@" >"$WORK/$name.stdout" 2>"$WORK/$name.stderr"
	RC=$?
	set -e
	STDOUT=$(cat "$WORK/$name.stdout")
	OUT=$(cat "$WORK/$name.stdout" "$WORK/$name.stderr")
	if [ "$RC" -ge 128 ]; then
		fail "$name: crashed with status $RC"
	fi
}

assert_rc() { # NAME WANT
	if [ "$RC" -eq "$2" ]; then pass; else
		fail "$1: exit status $RC, want $2"
		printf '%s\n' "$OUT" | tail -n 5 | sed 's/^/    | /' >&2
	fi
}

assert_has() { # NAME TEXT...
	local name=$1 t
	shift
	for t in "$@"; do
		if grep -qF -- "$t" <<<"$OUT"; then pass; else
			fail "$name: output lacks '$t'"
		fi
	done
}

assert_lacks() { # NAME TEXT...
	local name=$1 t
	shift
	for t in "$@"; do
		if grep -qiF -- "$t" <<<"$OUT"; then
			fail "$name: output must not contain '$t'"
		else pass; fi
	done
}

# JSON-check NAME PY-EXPR: parse stdout ($STDOUT) with python3 and evaluate an
# expression over it (d); it must be true.
assert_json() {
	local name=$1 expr=$2
	if printf '%s' "$STDOUT" | python3 -m json.tool >/dev/null 2>&1; then
		pass
	else
		fail "$name: not valid JSON"
		return
	fi
	if printf '%s' "$STDOUT" | python3 -c "import json,sys
d=json.load(sys.stdin)
sys.exit(0 if ($expr) else 1)"; then pass; else
		fail "$name: JSON check failed: $expr"
	fi
}

# ---- the worked examples (spec/worked-examples.md §4, §9, §10) ----------
declare -A HEX
HEX[4.1]=010b05800a0b0c0d00010f00e98c41c0000000000e0110606162636465666768696a6b6c6d6e6f0e010100157369703a616c696365406578616d706c652e6f726710030100137369703a6b6d732e6578616d706c652e6f72670e0001010101d1e000700e0e030100137369703a6b6d732e6578616d706c652e6f72670d010100157369703a616c696365406578616d706c652e6f7267010303e98d93400e000019000100100000000000000000000000000000000004000000000000020100137369703a626f62406578616d706c652e6f7267090402000b616c6963652d70736b2d3100015cf3fa7040b320d8bfb397914828573457273308
HEX[4.2]=010d05000a0b0c0d00010e00e98c41c10000000011030100137369703a6b6d732e6578616d706c652e6f7267010001010101d1e000520e0e030100137369703a6b6d732e6578616d706c652e6f72670d010100157369703a616c696365406578616d706c652e6f72670e0303e98d934000020100137369703a626f62406578616d706c652e6f726700760500000b00e98c41c1000000000110505152535455565758595a5b5c5d5e5f0e0100321f54fdc0ad3413d31b03870dbd35b9ebebbaeb03fb779f6585b66676b2a96fde1b3f87b81c9d7b0dfb7f1521aaf547861ea500090402000574706b2d3700011f59c7b3dff11aa769ceaf02506db3d3b22d2e3b00000901003287d5b35f3fca80183add85e81a7cf207ba4ca4a766ebf3736f96e25da55f56d48cabc7a8c5bb7783feacbcd46ffbe0e7de1d0000012e34a701ccaf23fdbcd951ebc890d278ee130eea
HEX[4.3]=010e05801a2b3c4d0202010001000004112233440400000001020001000000000f00e98c41c2000000000e0110707172737475767778797a7b7c7d7e7f0e010100157369703a616c696365406578616d706c652e6f72670a020100137369703a626f62406578616d706c652e6f7267110000001e00010101011002010103011404010e0501000701010801010a01010b010a090001010101d1e000520e0e030100137369703a6b6d732e6578616d706c652e6f72670d010100157369703a616c696365406578616d706c652e6f72670e0303e98d934000020100137369703a626f62406578616d706c652e6f726700760500000b00e98c41c1000000000110505152535455565758595a5b5c5d5e5f0e0100321f54fdc0ad3413d31b03870dbd35b9ebebbaeb03fb779f6585b66676b2a96fde1b3f87b81c9d7b0dfb7f1521aaf547861ea500090402000574706b2d3700011f59c7b3dff11aa769ceaf02506db3d3b22d2e3b000000017a4f585968178ab505244766507ecdef5e236270
HEX[4.4]=011005802a2b2c2d00010f00e98c41c3000000000e0210808182838485868788898a8b8c8d8e8f0e020100137369703a626f62406578616d706c652e6f726711030100137369703a6b6d732e6578616d706c652e6f72670e0001010101d1e000520e0e030100137369703a6b6d732e6578616d706c652e6f72670d010100157369703a616c696365406578616d706c652e6f72670e0303e98d934000020100137369703a626f62406578616d706c652e6f726700760500000b00e98c41c1000000000110505152535455565758595a5b5c5d5e5f0e0100321f54fdc0ad3413d31b03870dbd35b9ebebbaeb03fb779f6585b66676b2a96fde1b3f87b81c9d7b0dfb7f1521aaf547861ea500090402000574706b2d3700011f59c7b3dff11aa769ceaf02506db3d3b22d2e3b00000904020009626f622d70736b2d310001fe04cc633c86b9a81e955bf86d88b1be85b2cbed
HEX[4.5]=011205002a2b2c2d00010e00e98c41c40000000001030100137369703a6b6d732e6578616d706c652e6f726709010032be85494c99756460e16e1ad70f4df580f82f070623074ab0d0c1164d1e253ac8c760173f6c694eeb4fde63519d283dc53e34000001d3b8de57e8f63f223dea2622a9ed676ebd4e1310
HEX[4.6]=010f05001a2b3c4d02020100010000041122334404000000010200010000045566778804000000010e00e98c41c50000000009020100137369703a626f62406578616d706c652e6f7267000170eb1348144b5e572875298424ac76b18b92c477
HEX[4.7]=010f05001a2b3c4d02020100010000041122334404000000030200010000045566778804000000030e00e98c41c50000000001020100137369703a626f62406578616d706c652e6f726709010029c0cc39dd4084a3532c4ce235f0f40e968d915be72c465ea85d278b0c73311b097d1f8c7b4c2939958d000001e94cb9c417bfa95b81f643a67b2fda296cbc6985
HEX[9.1]=010e05801a2b3c4d02020100010000041122334404000000020200010000045566778804000000020e00e98c4418000000000e010100157369703a616c696365406578616d706c652e6f726701020100137369703a626f62406578616d706c652e6f72670901001922215ec848953f81a556beaebfd36f8cd8230a9ca753b5da9f000001a1274580f02d4288f98083f2f54ad3809428c565
HEX[9.2]=010f05001a2b3c4d02020100010000041122334404000000020200010000045566778804000000020e00e98c44190000000009020100137369703a626f62406578616d706c652e6f72670001607de844e60c398356a33283c818f6ee1c791bae
HEX[10.1]=010e05801a2b3c4d02020100010000041122334404000000020200010000045566778804000000020e00e98c4670000000000e020100137369703a626f62406578616d706c652e6f726701010100157369703a616c696365406578616d706c652e6f726709010029b67a951aa5ed917652ad33dd31a76e8c001ec1f6734267b8c95e41e2fadd5226c35738e4f067c68eb600000186ccd5348baa54099e58733ab33714f9103b2648
HEX[10.2]=010f05001a2b3c4d02020100010000041122334404000000020200010000045566778804000000020e00e98c46710000000009010100157369703a616c696365406578616d706c652e6f72670001f3f7e8057641fd0c8115fd8127fc99b39f90d28e

# data type name and the layout variant flag of each example
declare -A TYPE=([4.1]=REQUEST_INIT_PSK [4.2]=REQUEST_RESP [4.3]=TRANSFER_INIT
	[4.4]=RESOLVE_INIT_PSK [4.5]=RESOLVE_RESP [4.6]=TRANSFER_RESP
	[4.7]=TRANSFER_RESP [9.1]=TRANSFER_INIT [9.2]=TRANSFER_RESP
	[10.1]=TRANSFER_INIT [10.2]=TRANSFER_RESP)
declare -A VAR=([9.1]=--update-i [9.2]=--update-i [10.1]=--update-r
	[10.2]=--update-r)
SECTIONS="4.1 4.2 4.3 4.4 4.5 4.6 4.7 9.1 9.2 10.1 10.2"

# The §4.3 SDP line, verbatim from the spec.
KM43='a=key-mgmt:mikey AQ4FgBorPE0CAgEAAQAABBEiM0QEAAAAAQIAAQAAAAAPAOmMQcIAAAAADgEQcHFyc3R1dnd4eXp7fH1+fw4BAQAVc2lwOmFsaWNlQGV4YW1wbGUub3JnCgIBABNzaXA6Ym9iQGV4YW1wbGUub3JnEQAAAB4AAQEBARACAQEDARQEAQ4FAQAHAQEIAQEKAQELAQoJAAEBAQHR4ABSDg4DAQATc2lwOmttcy5leGFtcGxlLm9yZw0BAQAVc2lwOmFsaWNlQGV4YW1wbGUub3JnDgMD6Y2TQAACAQATc2lwOmJvYkBleGFtcGxlLm9yZwB2BQAACwDpjEHBAAAAAAEQUFFSU1RVVldYWVpbXF1eXw4BADIfVP3ArTQT0xsDhw29Nbnr67rrA/t3n2WFtmZ2sqlv3hs/h7gcnXsN+38VIar1R4YepQAJBAIABXRway03AAEfWcez3/Eap2nOrwJQbbPTsi0uOwAAAAF6T1hZaBeKtQUkR2ZQfs3vXiNicA=='

PSK_ALICE=000102030405060708090a0b0c0d0e0f
PSK_BOB=101112131415161718191a1b1c1d1e1f
TPK=202122232425262728292a2b2c2d2e2f
MPKI=ce8dd317c23951ba86fc68dd137d1a9a # spec §2: MPK -> MPKi
TGK=404142434445464748494a4b4c4d4e4f
RANDRI_XFER=707172737475767778797a7b7c7d7e7f

b64() { python3 -c 'import base64,sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$1"; }
unhex() { python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$1"; }
spaced() { printf '%s' "$1" | sed 's/../& /g'; }

# ---- 1. every example in every input form -------------------------------
for s in $SECTIONS; do
	h=${HEX[$s]}
	v=${VAR[$s]:-}
	unhex "$h" >"$WORK/$s.bin"
	for form in hex spaced b64 keymgmt file dashf stdin; do
		n="decode-$s-$form"
		case $form in
		hex) run "$n" mikey decode $v "$h" ;;
		spaced) run "$n" mikey decode $v "$(spaced "$h")" ;;
		b64) run "$n" mikey decode $v "$(b64 "$h")" ;;
		keymgmt) run "$n" mikey decode $v "a=key-mgmt:mikey $(b64 "$h")" ;;
		file) run "$n" mikey decode $v "@$WORK/$s.bin" ;;
		dashf) run "$n" mikey decode $v -f "$WORK/$s.bin" ;;
		stdin)
			set +e
			OUT=$(b64 "$h" | "$BIN" mikey decode $v 2>&1)
			RC=$?
			set -e
			[ "$RC" -lt 128 ] || fail "$n: crashed ($RC)"
			;;
		esac
		assert_rc "$n" 0
		assert_has "$n" "(${TYPE[$s]})" "layout: ok"
	done
done

# ---- 2. decoded values in the tree (§4.3) --------------------------------
run tree-4.3 mikey decode "$KM43"
assert_rc tree-4.3 0
assert_has tree-4.3 \
	"0000  HDR" "data type = 14 (TRANSFER_INIT)" "V = 1" \
	"PRF func = 0 (MIKEY-1)" "CSB ID = 0x1a2b3c4d" "#CS = 2" \
	"CS ID map type = 2 (GENERIC-ID)" "SSRC = 0x11223344" \
	"SPI = 00000001" "TS type = 0 (NTP-UTC)" \
	"time = 2024-03-01T12:00:02Z" "RAND = 707172737475767778797a7b7c7d7e7f" \
	"IDRi (IDR)" 'ID data = "sip:alice@example.org"' \
	'ID data = "sip:bob@example.org"' "encr alg = 1 (AES-CM)" \
	"auth tag len = 10 (bytes)" "ticket type = 1 (MIKEY base ticket)" \
	"D = 1" "E = 1" "F = 1" "G = 0" "H = 1" "I = 0" "J = 0" "K = 0" \
	"L = 1" "M = 1" "N = 1" "O = 1" "TP data length = 82" \
	'ID data = "sip:kms.example.org"' "TRe (TR)" \
	"time = 2024-03-02T12:00:00Z" "ticket data length = 118" \
	"initiator data length = 0" "auth alg = 1 (HMAC-SHA-1-160)" \
	"MAC = 7a4f585968178ab505244766507ecdef5e236270" "layout: ok"
# without --tpk the Ticket Data stays opaque
assert_lacks tree-4.3 "THDR" "ticket MAC"

# desired-policy KEMAC template in §4.1 (NULL encryption) and IDRpsk
run tree-4.1 mikey decode "${HEX[4.1]}"
assert_has tree-4.1 "encr alg = 0 (NULL)" "key type = 0 (TGK)" \
	'ID data = "alice-psk-1"' "ID type = 2 (byte string)" "IDRpsk (IDR)"

# RFC 4567 §5.1 offer (spec/mikey-core.md §12): classic PSK, SRTP-ID map
RFC4567=01000580cd177e5001000000000000000000000b00c8e350ea0000000006104a28da979ee21a7651a0d7f19136d98c0a00000f646f6e616c64406475636b2e636f6d010000000000010024d092a981a5640da6b08bdc21541b41b74299d78ca636ebbadbe36fde8ccf2f28302bf19b015f627a69c6508675f5f59050e4abcca4c0bfdcd5
run rfc4567 mikey decode "$RFC4567"
assert_rc rfc4567 0
assert_has rfc4567 "data type = 0 (PSK init)" "CS ID map type = 0 (SRTP-ID)" \
	"SSRC = 0x00000000" 'ID data = "donald@duck.com"' "ID type = 0 (NAI)" \
	"MAC alg = 1 (HMAC-SHA-1-160)" "layout: not checked"

# an Error message with ERR and General Extensions (SDP IDs, Key ID)
ERRMSG=010605000000000100010c00e98c41c000000000150e0000150100056d696b6579000300060004deadbeef
run errmsg mikey decode "$ERRMSG"
assert_rc errmsg 0
assert_has errmsg "data type = 6 (Error)" "error no = 14 (Invalid TICKET)" \
	"ext type = 1 (SDP IDs)" 'SDP IDs = "mikey"' "ext type = 3 (Key ID)" \
	"key ID = deadbeef" "layout: ok"
run errmsg-json mikey decode --json "$ERRMSG"
assert_json errmsg-json "d['payloads'][1]['error_no_name'] == 'Invalid TICKET' and d['payloads'][3]['key_ids'][0]['key_id'] == 'deadbeef'"

# Initiator Data (key forking, RFC 6043 §6.10) spliced into §4.3's TICKET:
# First Payload = V, Vi, Vr; decoded as a nested chain
h=${HEX[4.3]}
M20=abababababababababababababababababababab
FORKED=${h:0:$((0x166 * 2))}002d090901${M20}0001${M20}${h:$((0x168 * 2))}
run forked mikey decode "$FORKED"
assert_rc forked 0
assert_has forked "initiator data length = 45" "first payload = 9 (V)" \
	"Vi (V)" "Vr (V)" "MAC = $M20"

# ---- 3. JSON -------------------------------------------------------------
for s in $SECTIONS; do
	run "json-$s" mikey decode --json ${VAR[$s]:-} "${HEX[$s]}"
	assert_rc "json-$s" 0
	assert_json "json-$s" "d['hdr']['data_type_name'] == '${TYPE[$s]}' and d['layout'] == 'ok'"
done
run json-4.3 mikey decode --json "$KM43"
assert_json json-4.3 "d['hdr']['data_type'] == 14 and d['hdr']['csb_id'] == 0x1a2b3c4d and d['hdr']['cs'][0]['ssrc'] == 0x11223344 and [p['type'] for p in d['payloads']] == ['T','RANDR','IDR','IDR','SP','TICKET','V']"
assert_json json-4.3 "[p for p in d['payloads'] if p['type']=='TICKET'][0]['flags']['h'] == 1 and [p for p in d['payloads'] if p['type']=='TICKET'][0]['tp_data'][1]['id_data'] == 'sip:alice@example.org'"
run json-err mikey decode --json "${HEX[4.3]:0:100}"
assert_rc json-err 1
assert_json json-err "'truncated' in d['error']"

# ---- 4. keys: MAC and KEMAC ----------------------------------------------
run psk-4.1 mikey decode --psk $PSK_ALICE "${HEX[4.1]}"
assert_rc psk-4.1 0
assert_has psk-4.1 "MAC: ok"

run psk-4.2 mikey decode --psk $PSK_ALICE --init "${HEX[4.1]}" "$(b64 "${HEX[4.2]}")"
assert_rc psk-4.2 0
assert_has psk-4.2 "MAC: ok" "KEMAC: ok" "key type = 6 (MPK)" \
	"key type = 0 (TGK)" "SPI = 00000000" "SPI = 00000001" \
	"<16 bytes hidden>"
assert_lacks psk-4.2 "$TGK" "$MPKI"

run psk-4.2-show mikey decode --psk $PSK_ALICE --init "${HEX[4.1]}" --show-keys "${HEX[4.2]}"
assert_rc psk-4.2-show 0
assert_has psk-4.2-show "key data = $TGK" "key data = $MPKI"

run psk-4.2-json mikey decode --json --psk $PSK_ALICE --init "${HEX[4.1]}" "${HEX[4.2]}"
assert_json psk-4.2-json "d['mac'] == 'ok' and d['kemac'] == 'ok' and [k['key_type_name'] for k in d['keys']] == ['MPK','TGK']"
assert_lacks psk-4.2-json "$TGK"

run psk-4.2-noinit mikey decode --psk $PSK_ALICE "${HEX[4.2]}"
assert_rc psk-4.2-noinit 3
assert_has psk-4.2-noinit "needs --init"

run psk-4.1-wrong mikey decode --psk $PSK_BOB "${HEX[4.1]}"
assert_rc psk-4.1-wrong 3
assert_has psk-4.1-wrong "MAC: FAILED (bad MAC)"

run psk-4.2-wrong mikey decode --psk $PSK_BOB --init "${HEX[4.1]}" "${HEX[4.2]}"
assert_rc psk-4.2-wrong 3
assert_has psk-4.2-wrong "MAC: FAILED (bad MAC)"
assert_lacks psk-4.2-wrong "KEMAC: ok"

run psk-4.4 mikey decode --psk $PSK_BOB "${HEX[4.4]}"
assert_rc psk-4.4 0
assert_has psk-4.4 "MAC: ok"
run psk-4.5 mikey decode --psk $PSK_BOB --init "${HEX[4.4]}" "${HEX[4.5]}"
assert_rc psk-4.5 0
assert_has psk-4.5 "MAC: ok" "KEMAC: ok"

run key-4.3 mikey decode --key $MPKI "${HEX[4.3]}"
assert_rc key-4.3 0
assert_has key-4.3 "MAC: ok"
run key-4.3-wrong mikey decode --key $TGK "${HEX[4.3]}"
assert_rc key-4.3-wrong 3
assert_has key-4.3-wrong "MAC: FAILED (bad MAC)"
run key-4.6 mikey decode --key $MPKI --init "@$WORK/4.3.bin" "${HEX[4.6]}"
assert_rc key-4.6 0
assert_has key-4.6 "MAC: ok"
run key-4.7 mikey decode --key $MPKI --init "${HEX[4.3]}" --show-keys "${HEX[4.7]}"
assert_rc key-4.7 0
assert_has key-4.7 "KEMAC: ok" "key type = 3 (TEK+SALT)" \
	"key data = a0a1a2a3a4a5a6a7a8a9aaabacadaeaf" \
	"salt data = b0b1b2b3b4b5b6b7b8b9babbbcbd" "SPI = 00000003"
run key-4.6-badinit mikey decode --key $MPKI --init "${HEX[4.1]}" "${HEX[4.6]}"
assert_rc key-4.6-badinit 3
assert_has key-4.6-badinit "not TRANSFER_INIT"

# CSB updates (§9, §10): the TRANSFER_RESP keys, original RANDRi
run key-9.1 mikey decode --update-i --key $MPKI --init "${HEX[4.3]}" "${HEX[9.1]}"
assert_rc key-9.1 0
assert_has key-9.1 "MAC: ok" "KEMAC: ok" "SPI = 00000002"
assert_lacks key-9.1 "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
run key-9.2 mikey decode --update-i --key $MPKI --randri $RANDRI_XFER --init "${HEX[9.1]}" "${HEX[9.2]}"
assert_rc key-9.2 0
assert_has key-9.2 "MAC: ok"
run key-10.1 mikey decode --update-r --key $MPKI --randri $RANDRI_XFER "${HEX[10.1]}"
assert_rc key-10.1 0
assert_has key-10.1 "MAC: ok" "KEMAC: ok"
run key-10.2 mikey decode --update-r --key $MPKI --randri $RANDRI_XFER --init "${HEX[10.1]}" "${HEX[10.2]}"
assert_rc key-10.2 0
assert_has key-10.2 "MAC: ok"
# an update decoded as an initial message fails its layout check
run layout-9.1 mikey decode "${HEX[9.1]}"
assert_rc layout-9.1 3
assert_has layout-9.1 "layout: FAILED" "--update-i"

# ---- 5. the base ticket (--tpk) ------------------------------------------
run tpk-4.3 mikey decode --tpk $TPK "${HEX[4.3]}"
assert_rc tpk-4.3 0
assert_has tpk-4.3 "THDR" "RAND = 505152535455565758595a5b5c5d5e5f" \
	'ID data = "tpk-7"' "ticket MAC: ok" "ticket KEMAC: ok" \
	"ticket issued: 2024-03-01T12:00:01Z" "MAC: ok"
assert_lacks tpk-4.3 "$TGK" "303132333435363738393a3b3c3d3e3f"
run tpk-4.3-show mikey decode --tpk $TPK --show-keys "${HEX[4.3]}"
assert_has tpk-4.3-show "key data = 303132333435363738393a3b3c3d3e3f" \
	"key data = $TGK"
run tpk-4.2 mikey decode --tpk $TPK "${HEX[4.2]}"
assert_rc tpk-4.2 0
assert_has tpk-4.2 "ticket MAC: ok"
run tpk-wrong mikey decode --tpk $PSK_ALICE "${HEX[4.3]}"
assert_rc tpk-wrong 3
assert_has tpk-wrong "ticket MAC: FAILED (bad MAC)"
run tpk-none mikey decode --tpk $TPK "${HEX[4.6]}"
assert_rc tpk-none 3
assert_has tpk-none "no TICKET payload"
run tpk-json mikey decode --json --tpk $TPK "${HEX[4.4]}"
assert_json tpk-json "d['ticket_mac'] == 'ok' and [k['key_type_name'] for k in d['ticket_keys']] == ['MPK','TGK']"

# ---- 6. bad input: a clear error, status 1, never a crash ----------------
h=${HEX[4.3]}
for cut in 1 2 9 10 20 40 100 200 300 380; do
	run "trunc-$cut" mikey decode "${h:0:$((2 * cut))}"
	assert_rc "trunc-$cut" 1
	assert_has "trunc-$cut" "error: "
done
run trunc-msg mikey decode "${h:0:100}"
assert_has trunc-msg "error: truncated in RANDR RAND at offset 0x2d"
run trailing mikey decode "${h}00"
assert_rc trailing 1
assert_has trailing "error: trailing bytes"
run odd-hex mikey decode "${h:0:11}"
assert_rc odd-hex 1
run bad-b64 mikey decode "a=key-mgmt:mikey AQ4F*"
assert_rc bad-b64 1
assert_has bad-b64 "invalid base64"
run empty mikey decode ""
assert_rc empty 1
run garbage-text mikey decode "this is not MIKEY!"
assert_rc garbage-text 1
run nofile mikey decode "@$WORK/does-not-exist"
assert_rc nofile 1
head -c 4096 /dev/urandom >"$WORK/random.bin"
run garbage-bin mikey decode "@$WORK/random.bin"
assert_rc garbage-bin 1
# every single-byte corruption of §4.3: any status but a crash
python3 - "$h" >"$WORK/flips.txt" <<'EOF'
import sys
m = bytes.fromhex(sys.argv[1])
for i in range(0, len(m), 3):
    for x in (0x01, 0x80, 0xff):
        b = bytearray(m)
        b[i] ^= x
        print(b.hex())
EOF
while read -r f; do
	set +e
	"$BIN" mikey decode --tpk $TPK --key $MPKI "$f" >/dev/null 2>&1
	RC=$?
	set -e
	if [ "$RC" -ge 128 ] || { [ "$RC" -ne 0 ] && [ "$RC" -ne 1 ] && [ "$RC" -ne 3 ]; }; then
		fail "bit-flip: status $RC for $f"
	fi
done <"$WORK/flips.txt"
pass

# ---- 7. usage and help ---------------------------------------------------
for args in "mikey --help" "mikey decode --help" "mikey vectors --help"; do
	# shellcheck disable=SC2086
	run help $args
	assert_rc "$args" 0
	assert_has "$args" "usage: conclave mikey"
done
run bad-opt mikey decode --bogus "${HEX[4.3]}"
assert_rc bad-opt 2
run bad-hex-key mikey decode --psk xyz "${HEX[4.3]}"
assert_rc bad-hex-key 2

# ---- 8. vectors ----------------------------------------------------------
run vectors mikey vectors
assert_rc vectors 0
assert_has vectors "$KM43" "[4.3] TRANSFER_INIT (382 bytes)" \
	"hex: ${HEX[4.3]}"
for s in $SECTIONS; do
	assert_has vectors "hex: ${HEX[$s]}" "a=key-mgmt:mikey $(b64 "${HEX[$s]}")"
done
run vectors-json mikey vectors --json
assert_json vectors-json "len(d['examples']) == 11 and d['examples'][2]['sdp'] == '''$KM43''' and d['examples'][2]['length'] == 382"

echo "cli_mikey: $PASSES checks passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
