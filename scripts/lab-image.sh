#!/usr/bin/env bash
# Build the lab's base image (Debian 13 rootfs with systemd) and import it into podman.
# Ansible reaches its containers over SSH, as it reaches production hosts, with pipelining and ControlPersist: the
# image carries sshd and the lab's key (.build/lab/ssh), and sshd runs per connection through `podman exec -i NAME
# /usr/sbin/sshd -i` (ProxyCommand), so no container listens on a port for it.
# Rebuilt when missing, when the lab's key changes, or when LAB_IMAGE_REBUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${LAB_IMAGE:-localhost/pulsar-network-lab:trixie}
suite=${LAB_SUITE:-trixie}
key=$PWD/.build/lab/ssh/id_ed25519
if [[ ! -f $key ]]; then
  mkdir -p "$(dirname "$key")" && chmod 700 "$(dirname "$key")"
  ssh-keygen -q -t ed25519 -N '' -C pulsar-network-lab -f "$key"
fi
key_id=$(ssh-keygen -l -f "$key.pub" | awk '{print $2}')

if [[ ${LAB_IMAGE_REBUILD:-0} != 1 ]] \
   && [[ "$(podman image inspect --format '{{index .Labels "org.esg.pulsar-network.ssh-key"}}' "$image" 2>/dev/null)" == "$key_id" ]]; then
  echo "lab image $image present"
  exit 0
fi

# shellcheck source=scripts/debian-mirror.sh
source scripts/debian-mirror.sh
mirror=$(debian_mirror)

rootfs=$(mktemp -d /var/tmp/pulsar-lab-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

echo "debootstrap $suite from $mirror"
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,iproute2,procps,ca-certificates,sudo,python3,python3-apt,gpg,openssh-server \
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

# sshd only as `sshd -i` behind podman exec: no listening service, keys only, the lab's key for root.
chroot "$rootfs" systemctl disable ssh.service ssh.socket >/dev/null 2>&1 || true
echo 'd /run/sshd 0755 root root -' > "$rootfs/etc/tmpfiles.d/sshd-per-connection.conf"
printf 'PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUseDNS no\n' \
  > "$rootfs/etc/ssh/sshd_config.d/lab.conf"
install -d -m 700 "$rootfs/root/.ssh"
install -m 600 "$key.pub" "$rootfs/root/.ssh/authorized_keys"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" -c . | podman import --change 'CMD ["/sbin/init"]' \
  --change "LABEL org.esg.pulsar-network.ssh-key=$key_id" - "$image" >/dev/null
echo "lab image $image built"
