#!/usr/bin/env bash
# Run molecule scenarios: `scripts/molecule-all.sh network cvmfs endpoint ...`.
# The network scenario is longer than all the others together, and most of its time is waiting: on Galaxy's jobs, on
# the fault matrix's timers, on a drain. So it runs in the background, its log kept in .build/molecule/network.log and
# printed when it ends, while the others run one after another in the foreground. Every scenario runs to its end; the
# exit status is non-zero if any failed, and the last line names them.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
background=network
logs=.build/molecule
mkdir -p "$logs"

scenarios=("$@")
failed=()
pid=
if (( ${#scenarios[@]} > 1 )) && [[ " ${scenarios[*]} " == *" $background "* ]]; then
  echo "molecule: $background runs in the background (log: $logs/$background.log)"
  ( start=$SECONDS; molecule test -s "$background" > "$logs/$background.log" 2>&1; rc=$?
    echo "molecule: $background ended with rc $rc after $((SECONDS - start)) s" >> "$logs/$background.log"; exit $rc ) &
  pid=$!
  scenarios=("${scenarios[@]/$background/}")
fi

for scenario in "${scenarios[@]}"; do
  [[ -n "$scenario" ]] || continue
  start=$SECONDS
  molecule test -s "$scenario" || failed+=("$scenario")
  echo "molecule: $scenario took $((SECONDS - start)) s"
done

if [[ -n "$pid" ]]; then
  wait "$pid" || failed+=("$background")
  echo "===== molecule test -s $background (ran in the background) ====="
  cat "$logs/$background.log"
fi

if (( ${#failed[@]} )); then
  echo "molecule: failed scenarios: ${failed[*]}" >&2
  exit 1
fi
