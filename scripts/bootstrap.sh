#!/usr/bin/env bash
# Install what the lab and the tests need on a Debian 12 (or newer) host, as root:
# podman with runc, debootstrap and PostgreSQL's server binaries from Debian, and a Python virtualenv (.venv)
# from requirements/test.txt.
# Safe to run again: it installs only what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) != 0 ]]; then
  echo "bootstrap: run as root (the lab uses rootful podman and debootstrap)" >&2
  exit 1
fi

# postgresql: a throwaway server for the TES store's tests (services/tes/tests/pg_server.py), not a running service.
packages=(podman runc debootstrap uidmap python3-venv shellcheck openssh-client chromium chromium-driver postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

stamp=.venv/.requirements.sha256
want=$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)
if [[ ! -x .venv/bin/python || $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
  echo "bootstrap: installing Python requirements into .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements/test.txt
  echo "$want" > "$stamp"
fi
