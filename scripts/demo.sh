#!/usr/bin/env bash
# The README's first command: set everything up on a fresh Debian 12
# machine, build, and run the main job, `conclave demo`: a KMS, the
# conference server and five participants on loopback running a scripted
# secure conference (create, a refused join, speech, a join and a leave
# that each rekey), ending with a verdict table of who heard whom under
# which key epochs. Before it, the MIKEY layer is shown on its own: the
# worked examples of the brief, rebuilt byte for byte and verified.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

scripts/deps.sh
scripts/build.sh release
bin=build/conclave

ti=$("$bin" mikey vectors --json |
	python3 -c 'import json,sys; v=json.load(sys.stdin); print(next(e["hex"] for e in v["examples"] if e["section"]=="4.3"))')
echo
echo "== MIKEY: the worked TRANSFER_INIT, decoded and verified with MPKi"
"$bin" mikey decode --key ce8dd317c23951ba86fc68dd137d1a9a "$ti" |
	grep -E "TRANSFER_INIT|layout|MAC:"

echo
echo "== conclave demo"
exec "$bin" demo "$@"
