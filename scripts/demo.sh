#!/usr/bin/env bash
# The README's first command: set everything up on a fresh Debian 12
# machine, build, and run the main job. Today the main job is the MIKEY
# library through `conclave mikey` (it becomes `conclave demo` when the
# conference daemons land): the mode-1 MIKEY-TICKET flow of
# spec/worked-examples.md is rebuilt, and its TRANSFER_INIT is decoded and
# verified the way a conference focus would.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

scripts/deps.sh
scripts/build.sh release
bin=build/conclave

echo
echo "== conclave mikey vectors: the six mode-1 messages, the focus's group-key"
echo "== answer and both CSB updates, built from their inputs"
"$bin" mikey vectors

ti=$("$bin" mikey vectors --json |
	python3 -c 'import json,sys; v=json.load(sys.stdin); print(next(e["hex"] for e in v["examples"] if e["section"]=="4.3"))')

echo
echo "== conclave mikey decode: the TRANSFER_INIT as the Responder sees it,"
echo "== MAC checked with MPKi (keys stay hidden without --show-keys)"
"$bin" mikey decode --key ce8dd317c23951ba86fc68dd137d1a9a "$ti"
