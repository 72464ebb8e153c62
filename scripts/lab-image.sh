#!/usr/bin/env bash
# Build the lab's base image (Debian 13 rootfs with systemd) and import it into podman.
# Rebuilt only when missing, or when LAB_IMAGE_REBUILD=1.
set -euo pipefail

image=${LAB_IMAGE:-localhost/pulsar-network-lab:trixie}
suite=${LAB_SUITE:-trixie}

if [[ ${LAB_IMAGE_REBUILD:-0} != 1 ]] && podman image exists "$image"; then
  echo "lab image $image present"
  exit 0
fi

# Use the Debian mirror the host's own apt uses (deb822 first, then one-line sources).
mirror=${LAB_MIRROR:-$(
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'
  } | grep -E '/debian/?$' | head -n1 || true
)}
mirror=${mirror:-http://deb.debian.org/debian}

rootfs=$(mktemp -d /var/tmp/pulsar-lab-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

echo "debootstrap $suite from $mirror"
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,iproute2,procps,ca-certificates,sudo,python3,python3-apt,gpg \
  "$suite" "$rootfs" "$mirror" >/dev/null

# Trust what the host trusts locally (a site CA in front of PyPI, for instance).
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" update-ca-certificates >/dev/null
fi

# A container has no consoles or kernel to manage.
for unit in getty@tty1.service console-getty.service systemd-logind.service \
            systemd-udevd.service systemd-modules-load.service; do
  chroot "$rootfs" systemctl mask "$unit" >/dev/null 2>&1 || true
done
: > "$rootfs/etc/machine-id"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" -c . | podman import --change 'CMD ["/sbin/init"]' - "$image" >/dev/null
echo "lab image $image built"
