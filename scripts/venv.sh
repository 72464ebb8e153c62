# shellcheck shell=bash
# Sourced by the scripts that keep a tool in a virtualenv of its own.
# venv DIR PIP-ARGS...: a virtualenv that is rebuilt only when what it should hold changes.
venv() {
  local dir=$1; shift
  if [[ "$(cat "$dir/.wanted" 2>/dev/null)" != "$*" ]]; then
    rm -rf "$dir" && python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check "$@" > "$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
    echo "$*" > "$dir/.wanted"
  fi
}
