#!/usr/bin/env bash
# Bake the lab's images from the lab image: a container runs the install phases of the roles a host serves, then
# podman commit. An image is baked again only when the lab image or its inputs change.
#   scripts/lab-images.sh [node] [galaxy] [bio]   (all three when none is named)
#   node    localhost/pulsar-network-node:trixie    an endpoint node: htcondor, pulsar, cvmfs (playbooks/node_image.yml)
#   galaxy  localhost/pulsar-network-galaxy:trixie  the network scenario's Galaxy host: usegalaxy_replica and the lab's
#                                                   Tool Shed (scripts/lab-galaxy-image.yml), after a dry run of it
#   bio     localhost/pulsar-network-bio:trixie     a job image for Galaxy's tools (bwa, samtools from Debian), which
#                                                   the network scenario pushes to its registry: a minimal Debian, no
#                                                   systemd, sshd or key
# The scenarios converge hosts started from them with every phase, as a site's first boot would.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${LAB_IMAGE:-localhost/pulsar-network-lab:trixie}
builder=
trap '[[ -z $builder ]] || podman rm -f "$builder" > /dev/null 2>&1 || true' EXIT
# Image names and builders are the machine's, whichever checkout bakes: one bake at a time on it. `make test` bakes
# beside the network scenario and again before the other scenarios; the second waits, then finds the images baked.
exec 9> "${TMPDIR:-/tmp}/pulsar-network-lab-images.lock"
flock -w 1800 9 || { echo "lab-images: another bake held the lock for 30 minutes" >&2; exit 1; }

# bake IMAGE DRY_RUN "INPUT PATH..." PLAYBOOK [ARG...]: DRY_RUN=check runs the playbook in check mode on the bare
# builder first. The inputs are hashed without the roles' templates (configuration only).
bake() {
  local image=$1 dry_run=$2 playbook=$4 name inputs start old log
  local -a paths
  read -r -a paths <<< "$3"
  shift 4
  name=${image##*/}
  name=${name%%:*}
  inputs=$( { podman image inspect --format '{{.Id}}' "$base"
              find "${paths[@]}" -path '*/templates' -prune -o -type f -print | sort | xargs cat
            } | sha256sum | cut -c1-16)
  if [[ "$(podman image inspect --format '{{index .Labels "org.esg.pulsar-network.inputs"}}' "$image" 2>/dev/null)" == "$inputs" ]]; then
    echo "image $image present (inputs $inputs)"
    return 0
  fi
  old=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  log=.build/$name.log
  builder=$name-build
  podman rm -f "$builder" > /dev/null 2>&1 || true
  start=$SECONDS
  podman run -d --name "$builder" --systemd=always "$base" /sbin/init > /dev/null 9>&-
  # `podman run -d` can return before the container counts as running, and exec refuses a container that does not.
  podman wait --condition running "$builder" > /dev/null
  # Like every lab host (molecule/shared/prepare.yml), the builder starts as a fresh server with its package lists.
  podman exec "$builder" apt-get update -qq > /dev/null
  : > "$log"
  if [[ $dry_run == check ]]; then
    ansible-playbook -i "$builder," -c containers.podman.podman --check "$@" "$playbook" >> "$log" \
      || { tail -n 40 "$log"; echo "lab-images: the dry run of $playbook on a bare host failed" >&2; return 1; }
  fi
  ansible-playbook -i "$builder," -c containers.podman.podman "$@" "$playbook" >> "$log" \
    || { tail -n 40 "$log"; return 1; }
  podman stop -t 30 "$builder" > /dev/null
  podman commit --quiet --change 'CMD ["/sbin/init"]' --change "LABEL org.esg.pulsar-network.inputs=$inputs" \
    "$builder" "$image" > /dev/null
  podman rm -f "$builder" > /dev/null
  builder=
  # The image it replaces, unless a container still uses it.
  [[ -z $old ]] || podman rmi "$old" > /dev/null 2>&1 || true
  echo "image $image baked in $((SECONDS - start)) s (inputs $inputs)"
}

# bake_job_image IMAGE PACKAGE...: a minimal Debian with the packages, as a registry's image for jobs.
bake_job_image() {
  local image=$1 inputs rootfs start
  shift
  inputs=$(echo "trixie $*" | sha256sum | cut -c1-16)
  if [[ "$(podman image inspect --format '{{index .Labels "org.esg.pulsar-network.inputs"}}' "$image" 2>/dev/null)" == "$inputs" ]]; then
    echo "image $image present (inputs $inputs)"
    return 0
  fi
  # shellcheck source=scripts/debian-mirror.sh
  source scripts/debian-mirror.sh
  start=$SECONDS
  rootfs=$(mktemp -d /var/tmp/pulsar-job-rootfs.XXXXXX)
  debootstrap --variant=minbase --include="$(IFS=,; echo "$*")" trixie "$rootfs" "$(debian_mirror)" > /dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/sh"]' \
    --change "LABEL org.esg.pulsar-network.inputs=$inputs" - "$image" > /dev/null
  rm -rf "$rootfs"
  echo "image $image built in $((SECONDS - start)) s (inputs $inputs)"
}

kinds=("$@")
(( ${#kinds[@]} )) || kinds=(node galaxy bio)
for kind in "${kinds[@]}"; do
  case $kind in
    # No CVMFS package is reachable from the lab (docs/lab.md): the node image carries autofs and the settings only.
    node) bake "${NODE_IMAGE:-localhost/pulsar-network-node:trixie}" run \
            "playbooks/node_image.yml roles/common roles/htcondor roles/pulsar roles/cvmfs" esg.pulsar_network.node_image \
            -e node_image_hosts=all -e cvmfs_package_source=none --tags htcondor_install,pulsar_install,cvmfs_install ;;
    # The network scenario's Galaxy starts from it; its dry run on the bare builder is the role's only one on a new host.
    galaxy) bake "${GALAXY_IMAGE:-localhost/pulsar-network-galaxy:trixie}" check \
              "scripts/lab-galaxy-image.yml molecule/network/vars/toolshed.yml molecule/network/tasks/toolshed_install.yml roles/common roles/usegalaxy_replica" \
              scripts/lab-galaxy-image.yml --tags usegalaxy_replica_install ;;
    bio) bake_job_image "${BIO_IMAGE:-localhost/pulsar-network-bio:trixie}" bwa samtools ;;
    *) echo "lab-images: unknown image '$kind' (node, galaxy, bio)" >&2; exit 2 ;;
  esac
done
