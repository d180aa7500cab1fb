#!/usr/bin/env bash
# Install every Debian 12 (bookworm) package Conclave needs to build, test,
# fuzz and run its interop checks. Idempotent: if everything is already
# installed it does not touch apt at all.
#
# Usage: scripts/deps.sh            (as root, or as a user with sudo)
set -euo pipefail

PACKAGES=(
	# toolchain
	build-essential cmake pkg-config git ca-certificates python3
	# clang for libFuzzer, its sanitizer/fuzzer runtimes, the format check
	clang libclang-rt-14-dev clang-format
	# libraries (DESIGN.md §2)
	libssl-dev libre-dev libsrtp2-dev libsqlite3-dev libpq-dev libopus-dev
	# the KMS store on PostgreSQL: a throwaway server for its tests
	# (scripts/pg.sh, tests/kms_pg.sh) and the demo
	postgresql
	# test and interop tools (shared/interop/README.md); kamailio is the
	# SIP baseline of `conclave bench confd` and the focus nodes' proxy
	# (etc/kamailio-dispatch.cfg), kamailio-tls-modules its tls.so for
	# SIP over TLS through it (-A WITH_TLS, tests/confd_nodes_tls.sh)
	tshark sip-tester valgrind curl kamailio kamailio-tls-modules
	# a phone nobody here wrote, for the SDES interop (tests/lib/baresip.sh,
	# tests/interop_baresip.sh): baresip 1.0.0 without its GUI/video
	# recommends; openssl makes its TLS certificate
	baresip-core openssl python3-cryptography
)

missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null ||
		true)
	if [[ "$status" != "installed" ]]; then
		missing+=("$pkg")
	fi
done

if ((${#missing[@]} == 0)); then
	echo "deps.sh: all ${#PACKAGES[@]} packages already installed"
	exit 0
fi

echo "deps.sh: installing: ${missing[*]}"

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		echo "deps.sh: not root and sudo not found; install as root:" >&2
		echo "  apt-get install ${missing[*]}" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive

# tshark asks whether non-root users may capture; answer "no" up front.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	"${SUDO[@]}" debconf-set-selections

# Without a running init (CI containers), packages with services (kamailio)
# must not try to start them: a policy-rc.d that says "not now" for the
# duration of the install, removed afterwards if we created it.
POLICY=/usr/sbin/policy-rc.d
made_policy=
if [[ ! -d /run/systemd/system && ! -e $POLICY ]]; then
	printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
	"${SUDO[@]}" chmod 755 "$POLICY"
	made_policy=1
fi

"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
rc=0
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends "${missing[@]}" || rc=$?
if [[ -n $made_policy ]]; then
	"${SUDO[@]}" rm -f "$POLICY"
fi
((rc == 0)) || exit $rc

echo "deps.sh: done"
