"""Bad settings stop the htcondor role in preflight with a message that says how to fix them, before any change."""
import pytest

GOOD = {
    "htcondor_node_roles": ["central_manager", "submit", "execute"],
    "htcondor_central_manager": "target",
    "htcondor_uid_domain": "pool.example.org",
}

CASES = {
    "no roles": ({"htcondor_node_roles": []}, "Set it to a list of one or more of"),
    "unknown role": ({"htcondor_node_roles": ["scheduler"]}, "value of htcondor_node_roles must be one or more of"),
    "no central manager": ({"htcondor_central_manager": ""}, "Set it to the inventory hostname of the pool's central manager"),
    "central manager not in inventory": ({"htcondor_central_manager": "nowhere"}, "Set it to the inventory hostname"),
    "no uid domain": ({"htcondor_uid_domain": ""}, "Set htcondor_uid_domain"),
    "zero interval": ({"htcondor_negotiator_interval": 0}, "must be positive"),
    "placeholder key": ({"htcondor_pool_signing_key": "changeme"}, "htcondor_pool_signing_key is a placeholder"),
    "example vault's key": ({"htcondor_pool_signing_key": "CHANGE-ME: 32 random characters, from openssl rand"},
                            "htcondor_pool_signing_key is a placeholder"),
    "short key": ({"htcondor_pool_signing_key": "s3cr3t-but-short"}, "htcondor_pool_signing_key is shorter than 32"),
    "zero token lifetime": ({"htcondor_token_lifetime_days": 0}, "htcondor_token_lifetime_days must be a positive"),
    "revoked central manager": ({"htcondor_revoked_hosts": ["target"]}, "cannot hold the central manager target"),
    # A revoked host names a file in the central manager's store of issued tokens.
    "revoked host that is a path": ({"htcondor_revoked_hosts": ["../../passwords.d/POOL"]},
                                    "htcondor_revoked_hosts must be a host or domain name"),
    "bad extra knob": ({"htcondor_config_extra": {"BAD KNOB": "1"}}, "must map HTCondor configuration names"),
    "bad install source": ({"htcondor_install_source": "tarball"}, "value of htcondor_install_source must be one of"),
    # Configuration injection: pool.conf takes these unquoted.
    "wildcard UID_DOMAIN": ({"htcondor_uid_domain": "*"}, "htcondor_uid_domain must be a host or domain name"),
    "UID_DOMAIN with a new setting": ({"htcondor_uid_domain": "pool.example.org\nALLOW_ADMINISTRATOR = *"},
                                      "htcondor_uid_domain must be a host or domain name"),
    "UID_DOMAIN with a trailing newline": ({"htcondor_uid_domain": "pool.example.org\n"}, "htcondor_uid_domain must be"),
    "pool name with a new setting": ({"htcondor_pool_name": "pool\nALLOW_WRITE = *"}, "htcondor_pool_name holds a line break"),
    "extra value with a new setting": ({"htcondor_config_extra": {"MAX_JOBS_RUNNING": "10\nALLOW_READ = *"}},
                                       "htcondor_config_extra holds a line break"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_setting_fails_in_preflight_with_how_to_fix(run_role, preflight_failure, case):
    override, message = CASES[case]
    task, messages = preflight_failure(run_role("htcondor", {**GOOD, **override}))
    assert any(message in m for m in messages), messages
    assert task.split(" : ")[-1].startswith(("Check", "Validating arguments"))


def test_refused_key_is_not_echoed_even_at_vvv(run_role):
    result = run_role("htcondor", {**GOOD, "htcondor_pool_signing_key": "changeme-changeme-changeme-changeme"}, "-vvv")
    assert result.returncode != 0
    assert "changeme-changeme" not in result.stdout + result.stderr
