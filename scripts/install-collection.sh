#!/usr/bin/env bash
# Build the collection tarball and install it where the lab and the tests find it (.build/collections),
# exactly as a resource provider would install it with ansible-galaxy.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .build/dist
ansible-galaxy collection build --force --output-path .build/dist >/dev/null
ansible-galaxy collection install --force -p .build/collections .build/dist/esg-pulsar_network-*.tar.gz >/dev/null
echo "installed $(ls .build/dist) into .build/collections"
