#!/usr/bin/env bash
# Run a command while the network scenario runs in the background: `scripts/beside-network.sh CMD [ARG...]`.
# The network scenario takes longer than the rest of `make test` together, and most of its time is waiting: on Galaxy's
# jobs, the fault matrix's timers, a drain. So `make test` starts it first and runs everything else beside it (lint,
# unit, integration, sanity, the package and docs checks, the other scenarios). Its log is kept in
# .build/molecule/network.log and printed when it ends. Both run to their end; the exit status is non-zero if either
# failed, and the last line says which.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
log=.build/molecule/network.log
mkdir -p "$(dirname "$log")"

echo "beside-network: the lab's images, then molecule test -s network, run in the background (log: $log)"
# The network scenario starts from the lab's images (scripts/lab-images.sh): baked here on a new machine, beside the
# checks that need none.
( start=$SECONDS; { scripts/lab-images.sh && molecule test -s network; } > "$log" 2>&1; rc=$?
  echo "beside-network: network ended with rc $rc after $((SECONDS - start)) s" >> "$log"; exit $rc ) &
pid=$!

failed=()
start=$SECONDS
"$@" || failed+=("$*")
echo "beside-network: '$*' took $((SECONDS - start)) s"

wait "$pid" || failed+=("molecule test -s network")
echo "===== molecule test -s network (ran in the background) ====="
cat "$log"

if (( ${#failed[@]} )); then
  printf 'beside-network: failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
