#!/usr/bin/env bash
# Build the collection tarball and install it where the lab and the tests find it (.build/collections),
# exactly as a resource provider would install it with ansible-galaxy.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .build/dist
ansible-galaxy collection build --force --output-path .build/dist >/dev/null
tarball=$(ls .build/dist/esg-pulsar_network-*.tar.gz)
installed=.build/collections/ansible_collections/esg/pulsar_network
# The same files as installed (FILES.json lists each with its checksum): leave the installed copy alone, as the
# network scenario may be reading it (`make test` runs that scenario beside the rest, scripts/beside-network.sh).
files=$(tar -xzOf "$tarball" FILES.json | sha256sum | cut -d' ' -f1)
if [[ -f "$installed/FILES.json" && "$(sha256sum < "$installed/FILES.json" | cut -d' ' -f1)" == "$files" ]]; then
  echo "$(basename "$tarball") already installed in .build/collections"
  exit 0
fi
ansible-galaxy collection install --force -p .build/collections "$tarball" >/dev/null
# molecule installs the collection under test into ~/.ansible/collections, which ansible-lint then searches
# first; a copy left there by an earlier run would hide this build.
rm -rf "${HOME}/.ansible/collections/ansible_collections/esg/pulsar_network"
echo "installed $(basename "$tarball") into .build/collections"
