#!/usr/bin/env bash
# The network scenario's shared /srv/pulsar is a size-limited tmpfs volume, so that the fault matrix can fill the
# staging disk without touching the host's own disk. Created before molecule creates the containers that mount it;
# an older volume of another kind is replaced while no container uses it.
set -euo pipefail
volume=lab-network-shared
# In 4 KiB pages (nr_blocks): podman 4.3 refuses tmpfs's own size= option, taking it for an XFS quota.
pages=${LAB_SHARED_PAGES:-393216}
if [[ "$(podman volume inspect --format '{{.Options.type}}' "$volume" 2>/dev/null)" == tmpfs ]]; then
  exit 0
fi
if podman volume exists "$volume" && ! podman volume rm "$volume" >/dev/null; then
  echo "lab-volumes: $volume is in use; run 'molecule destroy -s network' first" >&2
  exit 1
fi
podman volume create --opt type=tmpfs --opt device=tmpfs --opt o=nr_blocks="$pages" "$volume" >/dev/null
echo "lab volume $volume: tmpfs of $((pages / 256)) MiB"
