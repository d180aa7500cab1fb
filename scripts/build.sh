#!/usr/bin/env bash
# Configure and build one flavour of Conclave.
#
#   scripts/build.sh [release]  -> build/       RelWithDebInfo, -Werror
#   scripts/build.sh asan       -> build-asan/  Debug, ASan+UBSan (gcc)
#   scripts/build.sh fuzz       -> build-fuzz/  libFuzzer targets (clang)
#
# Extra arguments after the flavour are passed to cmake at configure time.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

flavour=${1:-release}
shift || true
jobs=$(nproc 2>/dev/null || echo 2)

case "$flavour" in
release)
	dir=build
	cc=${CC:-gcc}
	opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONCLAVE_WERROR=ON
	      -DCONCLAVE_SANITIZE=OFF -DCONCLAVE_FUZZ=OFF)
	;;
asan)
	# gcc ships libasan/libubsan; clang is not needed for this build.
	dir=build-asan
	cc=${CC:-gcc}
	opts=(-DCMAKE_BUILD_TYPE=Debug -DCONCLAVE_WERROR=ON
	      -DCONCLAVE_SANITIZE=ON -DCONCLAVE_FUZZ=OFF)
	;;
fuzz)
	# libFuzzer exists only in clang; -fsanitize=fuzzer is set by fuzz/.
	dir=build-fuzz
	cc=clang
	opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONCLAVE_WERROR=ON
	      -DCONCLAVE_SANITIZE=OFF -DCONCLAVE_FUZZ=ON)
	;;
-h | --help)
	sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: $0 [release|asan|fuzz] [cmake args...]" >&2
	exit 2
	;;
esac

# A build dir configured with another compiler cannot be reused: CMake
# refuses to switch CMAKE_C_COMPILER in an existing cache.
if [[ -f "$dir/CMakeCache.txt" ]]; then
	cached=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$dir/CMakeCache.txt")
	want=$(command -v "$cc" || echo "$cc")
	if [[ -n "$cached" && "$(readlink -f "$cached")" != "$(readlink -f "$want")" ]]; then
		echo "build.sh: $dir was configured with $cached; reconfiguring with $cc"
		rm -rf "$dir"
	fi
fi

echo "build.sh: $flavour -> $dir (CC=$cc, $jobs jobs)"
CC=$cc cmake -S . -B "$dir" "${opts[@]}" "$@"
cmake --build "$dir" --parallel "$jobs"
