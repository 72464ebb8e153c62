#!/usr/bin/env bash
# Build the collection tarball and install it where the lab and the tests find it (.build/collections),
# exactly as a resource provider would install it with ansible-galaxy.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .build/dist
ansible-galaxy collection build --force --output-path .build/dist >/dev/null
ansible-galaxy collection install --force -p .build/collections .build/dist/esg-pulsar_network-*.tar.gz >/dev/null
# molecule installs the collection under test into ~/.ansible/collections, which ansible-lint then searches
# first; a copy left there by an earlier run would hide this build.
rm -rf "${HOME}/.ansible/collections/ansible_collections/esg/pulsar_network"
echo "installed $(ls .build/dist) into .build/collections"
