#!/usr/bin/env bash
# cli_kms.sh -- drive the real `conclave kms` end to end: init (with a new
# master key), users, identities and patterns, policies, ticket-key
# rotation, audit tail, credential export (mode 0600, content), and the
# errors (exit 1 with a message naming what failed, 2 on usage). A PSK
# never appears in any output except the exported file, and the one
# explicit --generate --show-psk.
#
# usage: bash tests/cli_kms.sh <path-to-conclave> <build-dir>
set -euo pipefail

BIN=${1:?usage: cli_kms.sh <conclave> <build-dir>}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
WORK=$(mktemp -d "${2:-/tmp}/cli_kms.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

FAILS=0
PASSES=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=131}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:exitcode=132}
unset CONCLAVE_KMS_DB CONCLAVE_MASTER_KEY
ALL_OUT="$WORK/all-output.txt"
: >"$ALL_OUT"

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

pass() {
	PASSES=$((PASSES + 1))
}

# run NAME ARGS...: run `conclave kms ARGS`, keep stdout+stderr in $OUT and
# the status in $RC; every output is also kept for the secret scan.
run() {
	local name=$1
	shift
	set +e
	"$BIN" kms "$@" >"$WORK/$name.stdout" 2>"$WORK/$name.stderr"
	RC=$?
	set -e
	STDOUT=$(cat "$WORK/$name.stdout")
	OUT=$(cat "$WORK/$name.stdout" "$WORK/$name.stderr")
	printf '%s\n' "$OUT" >>"$ALL_OUT"
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
			printf '%s\n' "$OUT" | tail -n 5 | sed 's/^/    | /' >&2
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

mode_of() { stat -c %a "$1"; }

export CONCLAVE_KMS_DB="sqlite:$WORK/kms.db"
export CONCLAVE_MASTER_KEY="$WORK/kms.key"

# ---- help and usage ---------------------------------------------------------
run help --help
assert_rc help 0
assert_has help "init" "user add" "identity add" "policy allow-conference" \
	"ticket-key rotate" "audit tail" "credential export" "--master-key-file"
for c in "init" "user add" "user list" "user show" "user del" "user set-psk" \
	"user set-supplier" "identity add" "identity del" "identity list" \
	"identity set-factory" \
	"policy allow-conference" "policy deny" "policy del" "policy list" \
	"ticket-key rotate" "audit tail" "credential export"; do
	# shellcheck disable=SC2086
	run "help-${c// /-}" $c --help
	assert_rc "help $c" 0
	assert_has "help $c" "usage: conclave kms $c"
done
run help-user user --help
assert_rc help-user 0
assert_has help-user "user set-psk"
run nocmd
assert_rc nocmd 2
run badcmd frobnicate
assert_rc badcmd 2
assert_has badcmd "unknown command 'frobnicate'"
run badsub user frob
assert_rc badsub 2
run badopt user list --frob
assert_rc badopt 2
assert_has badopt "unknown option '--frob'"

# ---- before init ----------------------------------------------------------------
run noinit user list
assert_rc noinit 1
assert_has noinit "master key file" "not found"
run init-nokey init
assert_rc init-nokey 1
assert_has init-nokey "master key file"

# ---- init --------------------------------------------------------------------------
run init init --create-master-key
assert_rc init 0
assert_has init "created master key file" "created KMS store" "schema v" \
	"ticket key tpk-"
[ "$(mode_of kms.key)" = 600 ] && pass || fail "kms.key mode $(mode_of kms.key)"
[ "$(mode_of kms.db)" = 600 ] && pass || fail "kms.db mode $(mode_of kms.db)"
[ "$(wc -c <kms.key)" -eq 65 ] && pass || fail "kms.key is not 64 hex + newline"
MASTER=$(tr -d '\n' <kms.key)
run init-again init --create-master-key
assert_rc init-again 1
assert_has init-again "already exists"

# master key file permissions
chmod 644 kms.key
run key-perm user list
assert_rc key-perm 1
assert_has key-perm "master key file" "refused" "chmod 600"
chmod 600 kms.key
# wrong master key
head -c 32 /dev/urandom >wrong.key
chmod 600 wrong.key
run wrong-key --master-key-file "$WORK/wrong.key" user list
assert_rc wrong-key 1
assert_has wrong-key "bad MAC" "wrong master key"
# the --db option and a missing store
run nodb --db "sqlite:$WORK/none.db" user list
assert_rc nodb 1
assert_has nodb "does not exist" "none.db"

# ---- users ---------------------------------------------------------------------------
PSK_ALICE=00112233445566778899aabbccddeeff00112233445566778899aabbccddee01
run add-alice user add alice --psk-id alice@example.org --psk "$PSK_ALICE"
assert_rc add-alice 0
assert_has add-alice "added user alice"
run add-bob user add bob --psk-id bob@example.org
assert_rc add-bob 0
run add-conf user add conf1 --psk-id conf1 --generate --psk-len 16 \
	--key-supplier
assert_rc add-conf 0
assert_has add-conf "16-byte PSK" "key supplier"
assert_lacks add-conf "psk:"
PSK_CAROL=$(printf 'c%.0s' $(seq 1 32))
run add-carol-stdin user add carol --psk-id carol --psk - <<<"$PSK_CAROL"
assert_rc add-carol-stdin 0
run add-dave user add dave --psk-id dave --generate --show-psk
assert_rc add-dave 0
PSK_DAVE=$(sed -n 's/^psk: //p' "$WORK/add-dave.stdout")
[ ${#PSK_DAVE} -eq 64 ] && pass || fail "add-dave: --show-psk printed no 64-hex PSK"
run dup user add alice --psk-id other
assert_rc dup 1
assert_has dup "user add 'alice'" "already in use"
run dup-pskid user add eve --psk-id alice@example.org
assert_rc dup-pskid 1
run badpsk user add eve --psk-id eve --psk 0011
assert_rc badpsk 2
assert_has badpsk "--psk must be"
run nopskid user add eve
assert_rc nopskid 2
assert_has nopskid "--psk-id is required"
run both user add eve --psk-id eve --psk "$PSK_ALICE" --generate
assert_rc both 2

run list user list
assert_rc list 0
assert_has list "alice" "alice@example.org" "bob" "conf1" "carol" "dave" "yes"

run setpsk user set-psk bob --generate
assert_rc setpsk 0
assert_has setpsk "new PSK"
run setpskid user set-psk bob --psk-id bob2@example.org
assert_rc setpskid 0
run setpsk-none user set-psk nobody --generate
assert_rc setpsk-none 1
assert_has setpsk-none "no user 'nobody'"
run supplier user set-supplier dave yes
assert_rc supplier 0
run supplier-bad user set-supplier dave maybe
assert_rc supplier-bad 2
run supplier-off user set-supplier dave no
assert_rc supplier-off 0

# ---- identities -----------------------------------------------------------------------
run id-alice identity add alice sip:alice@example.org
assert_rc id-alice 0
run id-bob identity add bob sip:bob@example.org
assert_rc id-bob 0
run id-factory identity add conf1 sip:factory.conf1@example.org --factory
assert_rc id-factory 0
assert_has id-factory "(factory)"
run id-focus identity add conf1 'sip:focus*.conf1@example.org'
assert_rc id-focus 0
run id-dup identity add bob sip:alice@example.org
assert_rc id-dup 1
assert_has id-dup "already belongs"
run id-bad identity add bob 'sip:a*b*@example.org'
assert_rc id-bad 1
assert_has id-bad "not a valid identity or pattern"
run id-nouser identity add nobody sip:x@example.org
assert_rc id-nouser 1
assert_has id-nouser "no such user"
run id-list identity list conf1
assert_rc id-list 0
assert_has id-list "sip:factory.conf1@example.org (factory)" "sip:focus*.conf1@example.org"
run setfac identity set-factory 'sip:focus*.conf1@example.org' yes
assert_rc setfac 0
run setfac-off identity set-factory 'sip:focus*.conf1@example.org' no
assert_rc setfac-off 0
run setfac-bad identity set-factory 'sip:focus*.conf1@example.org' maybe
assert_rc setfac-bad 2
run setfac-none identity set-factory sip:none@example.org yes
assert_rc setfac-none 1
assert_has setfac-none "no such identity"
run id-list2 identity list conf1
assert_lacks id-list2 "focus*.conf1@example.org (factory)"
assert_has id-list2 "sip:factory.conf1@example.org (factory)"
run id-tmp identity add dave sip:dave@example.org
run id-del identity del sip:dave@example.org
assert_rc id-del 0
run id-del-again identity del sip:dave@example.org
assert_rc id-del-again 1
assert_has id-del-again "no such identity"

# ---- policies ---------------------------------------------------------------------------
run allow policy allow-conference alice conf1
assert_rc allow 0
run allow-dup policy allow-conference alice conf1
assert_rc allow-dup 1
assert_has allow-dup "rule exists"
run allow-warn policy allow-conference bob dave
assert_rc allow-warn 0
assert_has allow-warn "warning: dave is not a key supplier"
run deny policy deny bob alice
assert_rc deny 0
run deny-nouser policy deny bob nobody
assert_rc deny-nouser 1
run plist policy list
assert_rc plist 0
assert_has plist "allow-conference alice conf1" "deny bob alice"
run pdel policy del allow-conference bob dave
assert_rc pdel 0
run pdel-again policy del allow-conference bob dave
assert_rc pdel-again 1
run pdel-kind policy del allow bob dave
assert_rc pdel-kind 2

run show user show alice
assert_rc show 0
assert_has show "user: alice" "psk_id: alice@example.org" \
	"sip:alice@example.org" "allow-conference alice conf1" "deny bob alice"
run show-none user show nobody
assert_rc show-none 1
assert_has show-none "no user 'nobody'"

# ---- ticket keys, audit --------------------------------------------------------------------
run rotate ticket-key rotate --grace 3600
assert_rc rotate 0
assert_has rotate "new ticket key tpk-" "resolves until"
run rotate-bad ticket-key rotate --grace -5
assert_rc rotate-bad 2
run audit audit tail -n 5
assert_rc audit 0
run audit-bad audit tail -n x
assert_rc audit-bad 2

# ---- credential export ----------------------------------------------------------------------
run cred credential export alice --kms-url https://kms.example.org/mikey \
	--identity sip:alice@example.org -o "$WORK/alice.cred"
assert_rc cred 0
assert_has cred "alice.cred" "mode 0600"
[ "$(mode_of alice.cred)" = 600 ] && pass || fail "alice.cred mode $(mode_of alice.cred)"
grep -qx "identity = sip:alice@example.org" alice.cred && pass || fail "cred: identity"
grep -qx "psk_id = alice@example.org" alice.cred && pass || fail "cred: psk_id"
grep -qx "psk = $PSK_ALICE" alice.cred && pass || fail "cred: psk"
grep -qx "kms_url = https://kms.example.org/mikey" alice.cred && pass || fail "cred: kms_url"
grep -qx "kms_identity = sip:kms.example.org" alice.cred && pass || fail "cred: kms_identity"
run cred-exists credential export alice --kms-url https://kms.example.org/mikey \
	--identity sip:alice@example.org -o "$WORK/alice.cred"
assert_rc cred-exists 1
assert_has cred-exists "--force"
run cred-force credential export alice --kms-url http://127.0.0.1:8080/mikey \
	--identity sip:alice@example.org -o "$WORK/alice.cred" --force \
	--kms-identity sip:kms.other.org
assert_rc cred-force 0
grep -qx "kms_identity = sip:kms.other.org" alice.cred && pass || fail "cred: --kms-identity"
# a pattern's identity for the factory/focus user
run cred-focus credential export conf1 --kms-url https://kms.example.org/mikey \
	--identity sip:focus7.conf1@example.org
assert_rc cred-focus 0
[ "$(mode_of conf1.cred)" = 600 ] && pass || fail "conf1.cred mode"
run cred-notmine credential export bob --kms-url https://kms.example.org/mikey \
	--identity sip:alice@example.org -o "$WORK/x.cred"
assert_rc cred-notmine 1
assert_has cred-notmine "is not user bob's"
[ ! -e x.cred ] && pass || fail "cred-notmine left a file"
run cred-url credential export alice --kms-url ftp://x --identity sip:alice@example.org
assert_rc cred-url 2
run cred-miss credential export alice --identity sip:alice@example.org
assert_rc cred-miss 2
# a PSK given on stdin round-trips
run cred-carol credential export carol --kms-url https://kms.example.org/mikey \
	--identity sip:carol@example.org -o carol.cred
assert_rc cred-carol 1 # carol has no identity yet
run id-carol identity add carol sip:carol@example.org
run cred-carol2 credential export carol --kms-url https://kms.example.org/mikey \
	--identity sip:carol@example.org -o carol.cred
assert_rc cred-carol2 0
grep -qx "psk = $PSK_CAROL" carol.cred && pass || fail "cred: stdin PSK"

# ---- delete ------------------------------------------------------------------------------------
run del user del bob
assert_rc del 0
run del-again user del bob
assert_rc del-again 1
assert_has del-again "no user 'bob'"
run plist2 policy list
assert_lacks plist2 "deny bob alice"

# ---- no secret in any output ----------------------------------------------------------------------
CONF_PSK=$(sed -n 's/^psk = //p' conf1.cred)
for secret in "$PSK_ALICE" "$PSK_CAROL" "$CONF_PSK" "$MASTER"; do
	if grep -qiF -- "$secret" "$ALL_OUT"; then
		fail "a secret appeared in the output"
	else pass; fi
done
# the only place dave's generated PSK was shown is the --show-psk run
if [ "$(grep -ciF -- "$PSK_DAVE" "$ALL_OUT")" -eq 1 ]; then pass; else
	fail "dave's PSK was printed more than once"
fi
# and no PSK in clear in the store files
for secret in "$PSK_ALICE" "$CONF_PSK"; do
	if python3 - "$secret" kms.db kms.db-wal <<'EOF'; then pass; else fail "PSK in clear in the store"; fi
import os, sys
needle = bytes.fromhex(sys.argv[1])
for f in sys.argv[2:]:
    if os.path.exists(f) and needle in open(f, 'rb').read():
        sys.exit(1)
EOF
done

echo "cli_kms: $PASSES checks passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
