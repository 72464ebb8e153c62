#!/usr/bin/env bash
# The lab's vault password (ANSIBLE_VAULT_PASSWORD_FILE, exported by the Makefile): made once, readable by its owner
# alone. It encrypts the lab operator's registry of onboarded endpoints. A lab secret, not a production one.
set -euo pipefail
file="$(dirname "$0")/../.build/lab/vault-password"
if [[ ! -s $file ]]; then
  mkdir -p "$(dirname "$file")"
  (umask 077 && head -c 24 /dev/urandom | base64 >"$file")
fi
cat "$file"
