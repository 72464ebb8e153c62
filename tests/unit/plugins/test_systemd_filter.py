"""The one sandbox for the collection's units: what it always holds, and how paths and network access vary."""
import pytest

from ansible_collections.esg.pulsar_network.plugins.filter.systemd import FilterModule

harden = FilterModule().filters()["systemd_hardening"]


def test_the_sandbox_holds_the_settings_that_bring_exposure_down():
    lines = harden(["/var/lib/pulsar", "/srv/pulsar/staging"]).splitlines()
    for setting in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                    "CapabilityBoundingSet=", "SystemCallFilter=@system-service"):
        assert setting in lines
    assert "ReadWritePaths=/var/lib/pulsar /srv/pulsar/staging" in lines
    assert "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK" in lines
    assert all("=" in line for line in lines)


def test_without_network_the_unit_gets_none():
    lines = harden(["/srv/pulsar/staging"], network=False).splitlines()
    assert "PrivateNetwork=yes" in lines and "RestrictAddressFamilies=AF_UNIX" in lines
    assert not any("AF_INET" in line for line in lines)


def test_paths_are_listed_once_and_optional_ones_keep_their_dash():
    assert "ReadWritePaths=/a -/b" in harden(["/a", "-/b", "/a", ""]).splitlines()


def test_no_writable_path_is_a_clear_error():
    with pytest.raises(ValueError, match="needs the paths the service writes to"):
        harden([])


def test_a_unit_may_share_the_hosts_tmp():
    from ansible_collections.esg.pulsar_network.plugins.filter.systemd import systemd_hardening

    shared = systemd_hardening(["/var/lib/pulsar"], private_tmp=False).splitlines()
    assert "PrivateTmp=yes" not in shared
    assert "ProtectSystem=strict" in shared
    assert "ReadWritePaths=/var/lib/pulsar /tmp" in shared
    assert "PrivateTmp=yes" in systemd_hardening(["/var/lib/pulsar"]).splitlines()
