#!/usr/bin/env bash
# Bake the lab's images from the lab image: a container runs the install phases of the roles a host serves, then
# podman commit. An image is baked again only when the lab image or its inputs change.
#   localhost/pulsar-network-node:trixie    an endpoint node: htcondor, pulsar, cvmfs (playbooks/node_image.yml)
#   localhost/pulsar-network-galaxy:trixie  the network scenario's Galaxy host: usegalaxy_replica and the lab's
#                                           Tool Shed (scripts/lab-galaxy-image.yml)
# The scenarios converge hosts started from them with every phase but the baked ones, as a site's first boot would.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${LAB_IMAGE:-localhost/pulsar-network-lab:trixie}
# `make test` bakes beside the network scenario and again before the other scenarios: the second waits for the first,
# then finds the images baked.
mkdir -p .build
exec 9> .build/lab-images.lock
flock 9
builder=
trap '[[ -z $builder ]] || podman rm -f "$builder" > /dev/null 2>&1 || true' EXIT

# bake IMAGE "INPUT PATHS" PLAYBOOK [ARG...]: the inputs are hashed without the roles' templates (configuration only).
bake() {
  local image=$1 paths=$2 playbook=$3
  shift 3
  local name=${image##*/} inputs start
  name=${name%%:*}
  builder=$name-build
  # shellcheck disable=SC2086  # the paths are word-split on purpose
  inputs=$( { podman image inspect --format '{{.Id}}' "$base"
              find $paths -path '*/templates' -prune -o -type f -print | sort | xargs cat
            } | sha256sum | cut -c1-16)
  if [[ "$(podman image inspect --format '{{index .Labels "org.esg.pulsar-network.inputs"}}' "$image" 2>/dev/null)" == "$inputs" ]]; then
    echo "image $image present (inputs $inputs)"
    return 0
  fi
  podman rm -f "$builder" > /dev/null 2>&1 || true
  start=$SECONDS
  podman run -d --name "$builder" --systemd=always "$base" /sbin/init > /dev/null
  # `podman run -d` can return before the container counts as running, and exec refuses a container that does not.
  podman wait --condition running "$builder" > /dev/null
  # Like every lab host (molecule/shared/prepare.yml), the builder starts as a fresh server with its package lists.
  podman exec "$builder" apt-get update -qq > /dev/null
  ansible-playbook -i "$builder," -c containers.podman.podman "$@" "$playbook" > ".build/$name.log" \
    || { tail -n 40 ".build/$name.log"; return 1; }
  podman stop "$builder" > /dev/null
  podman commit --quiet --change 'CMD ["/sbin/init"]' --change "LABEL org.esg.pulsar-network.inputs=$inputs" \
    "$builder" "$image" > /dev/null
  podman rm -f "$builder" > /dev/null
  builder=
  echo "image $image baked in $((SECONDS - start)) s (inputs $inputs)"
}

# No CVMFS package is reachable from the lab (docs/lab.md): the node image carries autofs and the settings only.
bake "${NODE_IMAGE:-localhost/pulsar-network-node:trixie}" \
  "playbooks/node_image.yml roles/common roles/htcondor roles/pulsar roles/cvmfs" esg.pulsar_network.node_image \
  -e node_image_hosts=all -e cvmfs_package_source=none --tags htcondor_install,pulsar_install,cvmfs_install
bake "${GALAXY_IMAGE:-localhost/pulsar-network-galaxy:trixie}" \
  "scripts/lab-galaxy-image.yml molecule/network/vars/toolshed.yml molecule/network/tasks/toolshed_install.yml roles/common roles/usegalaxy_replica" \
  scripts/lab-galaxy-image.yml --tags usegalaxy_replica_install
