#!/usr/bin/env bash
# Bake the lab's endpoint node image: a container from the lab image, the install phases of htcondor, pulsar and cvmfs
# (playbooks/node_image.yml), then podman commit. Rebuilt only when the lab image or the roles' install inputs change.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${LAB_IMAGE:-localhost/pulsar-network-lab:trixie}
image=${NODE_IMAGE:-localhost/pulsar-network-node:trixie}
builder=pn-node-image-build

inputs=$( { podman image inspect --format '{{.Id}}' "$base"
            cat playbooks/node_image.yml
            find roles/common roles/htcondor roles/pulsar roles/cvmfs -path '*/templates' -prune -o -type f -print | sort | xargs cat
          } | sha256sum | cut -c1-16)
if [[ "$(podman image inspect --format '{{index .Labels "org.esg.pulsar-network.inputs"}}' "$image" 2>/dev/null)" == "$inputs" ]]; then
  echo "node image $image present (inputs $inputs)"
  exit 0
fi

podman rm -f "$builder" > /dev/null 2>&1 || true
trap 'podman rm -f "$builder" > /dev/null 2>&1 || true' EXIT
start=$SECONDS
podman run -d --name "$builder" --systemd=always "$base" /sbin/init > /dev/null
# `podman run -d` can return before the container counts as running, and exec refuses a container that does not.
podman wait --condition running "$builder" > /dev/null
# Like every lab host (molecule/shared/prepare.yml), the builder starts as a fresh server with its package lists.
podman exec "$builder" apt-get update -qq > /dev/null
# No CVMFS package is reachable from the lab (docs/lab.md): the image carries autofs and the settings only.
ansible-playbook -i "$builder," -c containers.podman.podman -e node_image_hosts=all -e cvmfs_package_source=none \
  --tags htcondor_install,pulsar_install,cvmfs_install esg.pulsar_network.node_image > .build/node-image.log \
  || { tail -n 40 .build/node-image.log; exit 1; }
podman stop "$builder" > /dev/null
podman commit --quiet --change 'CMD ["/sbin/init"]' --change "LABEL org.esg.pulsar-network.inputs=$inputs" \
  "$builder" "$image" > /dev/null
echo "node image $image baked in $((SECONDS - start)) s (inputs $inputs)"
