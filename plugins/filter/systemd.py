# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""systemd_hardening: the sandbox every service unit of the collection runs in, written once."""

from __future__ import annotations

# Each measured with systemd-analyze security on the lab's units (docs/security.md). AF_NETLINK stays: HTCondor's
# tools (condor_submit under Pulsar) find their own address through it. ProtectHostname needs a UTS namespace, which
# a container manager may refuse; systemd then carries on without it.
COMMON = (
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "DevicePolicy=closed",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "ProtectProc=invisible",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "MemoryDenyWriteExecute=yes",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    "SystemCallFilter=~@privileged @resources",
    "SystemCallErrorNumber=EPERM",
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
    "KeyringMode=private",
    "RemoveIPC=yes",
    "UMask=0027",
)
NETWORK = "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"
NO_NETWORK = ("RestrictAddressFamilies=AF_UNIX", "PrivateNetwork=yes", "IPAddressDeny=any")


def systemd_hardening(read_write_paths, network=True, private_tmp=True) -> str:
    """[Service] lines: the common sandbox, the paths the service may write (a leading '-' marks one that may be
    missing), and network access or none. private_tmp=False shares the host's /tmp, writable, which
    HTCondor's FS authentication needs (the schedd looks there for the file its client makes)."""
    paths = [str(path) for path in read_write_paths if path]
    if not paths:
        raise ValueError("systemd_hardening needs the paths the service writes to (ProtectSystem=strict makes the rest read-only)")
    common = [line for line in COMMON if private_tmp or line != "PrivateTmp=yes"]
    if not private_tmp:
        paths.append("/tmp")  # ProtectSystem=strict would leave it read-only
    lines = common + [f"ReadWritePaths={' '.join(dict.fromkeys(paths))}"]
    lines += [NETWORK] if network else list(NO_NETWORK)
    return "\n".join(lines)


class FilterModule:
    def filters(self):
        return {"systemd_hardening": systemd_hardening}
