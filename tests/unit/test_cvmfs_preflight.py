"""Bad CVMFS settings stop the cvmfs role in preflight, before anything changes, with how to fix them."""
import pytest

BASE = {"cvmfs_package_source": "none"}

CASES = {
    "proxy list not grouped": ({"cvmfs_http_proxies": ["http://squid:3128"]}, "list of groups"),
    "proxy without a port": ({"cvmfs_http_proxies": [["http://squid"]]}, "list of groups"),
    "quota not a number": ({"cvmfs_quota_limit_mb": "4G"}, "cvmfs_quota_limit_mb"),
    "quota too small": ({"cvmfs_quota_limit_mb": 100}, "at least 1000"),
    "server URL without @fqrn@": ({"cvmfs_server_urls": ["http://s1.example.org/cvmfs/data"]},
                                  "Offending: http://s1.example.org/cvmfs/data"),
    "static repository without its key": (
        {"cvmfs_config_mode": "static", "cvmfs_repositories": ["data.galaxyproject.org", "main.galaxyproject.org"]},
        "cvmfs_keys needs main.galaxyproject.org.pub"),
    "key that is not PEM": ({"cvmfs_keys": {"cvmfs-config.galaxyproject.org.pub": "AAAA"}}, "must be PEM text"),
    "unknown mount mode": ({"cvmfs_mount_mode": "nfs"}, "cvmfs_mount_mode"),
    "proxy without client networks": ({"cvmfs_proxy_enabled": True}, "cvmfs_proxy_allowed_networks"),
    "proxy network not CIDR": ({"cvmfs_proxy_enabled": True, "cvmfs_proxy_allowed_networks": ["10.1.0.0"]},
                               "CIDR form"),
    "extra setting not CVMFS_": ({"cvmfs_client_extra": {"NFILES": 1}}, "CVMFS_* names"),
    # Configuration injection: default.local is sourced by a shell, squid.conf takes space-separated lists.
    "repository that runs a command": ({"cvmfs_repositories": ['data.galaxyproject.org";touch /pwned;"']},
                                       "cvmfs_repositories holds a line break or a character a shell would interpret"),
    "cache base with a command substitution": ({"cvmfs_cache_base": "/var/lib/$(id)"}, "cvmfs_cache_base holds"),
    "extra setting with a new line": ({"cvmfs_client_extra": {"CVMFS_NFILES": "1\nCVMFS_HTTP_PROXY=DIRECT"}},
                                      "cvmfs_client_extra holds"),
    "upstream server with a new directive": (
        {"cvmfs_proxy_enabled": True, "cvmfs_proxy_allowed_networks": ["10.1.0.0/16"],
         "cvmfs_proxy_upstream_servers": ["s1.example.org\nhttp_access allow all"]},
        "cvmfs_proxy_upstream_servers must be one word"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_setting_fails_in_preflight_with_how_to_fix(run_role, preflight_failure, case):
    override, message = CASES[case]
    _task, messages = preflight_failure(run_role("cvmfs", {**BASE, **override}))
    assert any(message in m for m in messages), messages
