#!/usr/bin/env bash
# Run molecule scenarios one after another, each to its end: `scripts/molecule-all.sh cvmfs endpoint ...`.
# The exit status is non-zero if any failed, and the last line names them.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
failed=()
for scenario in "$@"; do
  start=$SECONDS
  molecule test -s "$scenario" || failed+=("$scenario")
  echo "molecule: $scenario took $((SECONDS - start)) s"
done
if (( ${#failed[@]} )); then
  echo "molecule: failed scenarios: ${failed[*]}" >&2
  exit 1
fi
