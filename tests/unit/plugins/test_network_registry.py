"""The registry of onboarded endpoints (filters network_registry and network_registry_problems), as onboard_endpoint
keeps it: an endpoint recorded keeps its password and the settings not given again, a new one gets the generated
password, and a request that cannot be recorded gets one line per reason, the request's before the description's,
never with a password."""
import jinja2
import jinja2.filters
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.esg.pulsar_network.plugins.filter.network_registry import FilterModule

FILTERS = FilterModule().filters()
network_registry = FILTERS["network_registry"]
network_registry_problems = FILTERS["network_registry_problems"]

DESCRIBED_PASSWORD = "VERYSECRET-described-pw"
OLD_PASSWORD = "VERYSECRET-onboarded-password-0001"
NEW_PASSWORD = "VERYSECRET-generated-password-0002"
REGISTRY_FILE = "/srv/operator/inventory/pulsar_network_onboarded.yml"
REGISTRY = [
    {"name": "Zed", "password": OLD_PASSWORD, "state": "present"},
    {"name": "alpha", "password": OLD_PASSWORD, "cores": 8, "tags": ["hpc"], "state": "present"},
]


def description(registry):
    """pulsar_network as an operator writes it: one endpoint by hand, and the registry's."""
    return {"broker": {"host": "mq.example.org"}, "galaxy_servers": [{"name": "usegalaxy_eu"}, {"name": "usegalaxy_org"}],
            "endpoints": [{"name": "site_a", "password": DESCRIBED_PASSWORD}] + list(registry)}


def request(**given):
    return {"endpoint": "site_b", "state": "present", "record_state": "present", "password": NEW_PASSWORD,
            "registry_file": REGISTRY_FILE, "vault_missing": False, **given}


def record(registry, **given):
    return network_registry(registry, description(registry or []), **request(**given))


def entry(registry, name):
    return next(e for e in registry if e["name"] == name)


# --- Merging ------------------------------------------------------------------------------------------------------

def test_a_new_endpoint_gets_the_generated_password_and_the_settings_given():
    settings = {"galaxy_servers": "usegalaxy_eu", "cores": "16", "mem": "64", "tags": "hpc,gpu", "staging_root": None,
                "container_runtime": "podman"}
    registry = record(REGISTRY, settings=settings)
    assert entry(registry, "site_b") == {"name": "site_b", "password": NEW_PASSWORD, "state": "present",
                                         "galaxy_servers": ["usegalaxy_eu"], "cores": 16, "mem": 64.0, "tags": ["hpc", "gpu"],
                                         "container_runtime": "podman"}
    assert [e for e in registry if e["name"] != "site_b"] == REGISTRY[::-1]  # the others as they were, sorted


def test_an_onboarded_endpoint_keeps_its_password_and_the_settings_not_given_again():
    registry = record(REGISTRY, endpoint="alpha", settings={"cores": 32, "manager": "big", "gpus": None})
    assert entry(registry, "alpha") == {"name": "alpha", "password": OLD_PASSWORD, "state": "present", "cores": 32,
                                        "tags": ["hpc"], "manager": "big"}


def test_recording_an_endpoint_again_without_settings_gives_the_same_registry():
    assert record(REGISTRY, endpoint="alpha") == REGISTRY[::-1]
    assert record(record(REGISTRY, endpoint="alpha"), endpoint="alpha") == REGISTRY[::-1]


@pytest.mark.parametrize("record_state", ["draining", "absent", "present"])
def test_the_state_recorded_is_the_one_asked_for(record_state):
    state = "present" if record_state == "present" else "absent"  # leaving drains, then removes
    registry = record(REGISTRY, endpoint="alpha", state=state, record_state=record_state)
    assert entry(registry, "alpha")["state"] == record_state
    assert entry(registry, "alpha")["password"] == OLD_PASSWORD


def test_the_registry_is_sorted_by_name_as_jinja_sorts_it_regardless_of_case():
    registry = record(REGISTRY, endpoint="beta")
    assert [e["name"] for e in registry] == ["alpha", "beta", "Zed"]
    # onboard_record.yml compares the registry it read, sorted by Jinja, with this one to decide whether to write.
    assert registry == jinja2.filters.do_sort(jinja2.Environment(), registry, attribute="name")


def test_an_empty_or_missing_registry_and_duplicate_entries():
    assert record(None) == [{"name": "site_b", "password": NEW_PASSWORD, "state": "present"}]
    assert record([]) == record(None)
    twice = [{"name": "site_b", "password": OLD_PASSWORD, "cores": 2}, {"name": "site_b", "password": "other-password-1234"}]
    assert record(twice) == [{"name": "site_b", "password": OLD_PASSWORD, "cores": 2, "state": "present"}]


@pytest.mark.parametrize("value", ["16", "8.7", "abc", "", "0x10", 16, 2.5, True])
def test_numbers_given_as_text_are_read_as_jinjas_int_and_float_filters_read_them(value):
    recorded = entry(record(REGISTRY, settings={"cores": value, "gpus": value, "mem": value}), "site_b")
    assert (recorded["cores"], recorded["gpus"]) == (jinja2.filters.do_int(value),) * 2
    assert recorded["mem"] == jinja2.filters.do_float(value)


def test_lists_may_be_given_as_lists_or_comma_separated():
    as_list = entry(record(REGISTRY, settings={"galaxy_servers": ["usegalaxy_eu", "usegalaxy_org"], "tags": []}), "site_b")
    as_text = entry(record(REGISTRY, settings={"galaxy_servers": "usegalaxy_eu,usegalaxy_org", "tags": ""}), "site_b")
    assert as_list["galaxy_servers"] == as_text["galaxy_servers"] == ["usegalaxy_eu", "usegalaxy_org"]
    assert (as_list["tags"], as_text["tags"]) == ([], [""])


def test_an_unknown_setting_is_a_mistake_of_the_caller():
    with pytest.raises(AnsibleFilterError, match="unknown settings colour"):
        record(REGISTRY, settings={"colour": "blue"})


# --- Refusals -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("given, reasons", [
    ({"endpoint": "site-b"}, ["endpoint must be given (-e onboard_endpoint=NAME), letters, digits and _"]),
    ({"endpoint": ""}, ["endpoint must be given (-e onboard_endpoint=NAME), letters, digits and _"]),
    ({"state": "gone"}, ["onboard_state must be present or absent"]),
    ({"endpoint": "site_a"}, [f"endpoint site_a is described by hand in pulsar_network.endpoints; onboarding manages only "
                              f"the endpoints it recorded in {REGISTRY_FILE}"]),
    ({"state": "absent", "record_state": "draining"}, ["endpoint site_b was never onboarded: nothing to offboard"]),
    ({"vault_missing": True}, ["no vault password to encrypt the registry with: set ANSIBLE_VAULT_PASSWORD_FILE (or "
                               "vault_password_file), or onboard_vault=false for a plain file readable only by its owner"]),
    ({"endpoint": "site-b", "state": "gone", "vault_missing": True},
     ["endpoint must be given (-e onboard_endpoint=NAME), letters, digits and _", "onboard_state must be present or absent",
      "no vault password to encrypt the registry with: set ANSIBLE_VAULT_PASSWORD_FILE (or vault_password_file), or "
      "onboard_vault=false for a plain file readable only by its owner"]),
    # The description the run would converge to, once the request itself is right.
    ({"settings": {"galaxy_servers": "usegalaxy_eu,nope"}}, ["pulsar_network endpoint site_b: unknown Galaxy servers nope"]),
    ({"settings": {"galaxy_servers": []}}, ["pulsar_network endpoint site_b serves no Galaxy server"]),
    ({"record_state": "gone"}, ["pulsar_network endpoint site_b: state must be one of present, draining, absent"]),
    ({"password": "short"}, ["pulsar_network endpoint site_b: the password is shorter than 12 characters"]),
    ({"settings": {"container_runtime": "docker"}},
     ["pulsar_network endpoint site_b: container_runtime must be one of none, podman, apptainer"]),
    # The request's reasons come first, alone: an endpoint that is no name makes no description.
    ({"endpoint": "site b", "settings": {"galaxy_servers": "nope"}},
     ["endpoint must be given (-e onboard_endpoint=NAME), letters, digits and _"]),
])
def test_a_request_that_cannot_be_recorded_gets_one_line_per_reason_without_a_password(given, reasons):
    problems = network_registry_problems(REGISTRY, description(REGISTRY), **request(**given))
    assert [problem[:len(reason)] for problem, reason in zip(problems, reasons)] == reasons
    assert len(problems) == len(reasons)
    with pytest.raises(AnsibleFilterError) as refused:
        network_registry(REGISTRY, description(REGISTRY), **request(**given))
    assert str(refused.value).endswith("; ".join(problems) + ".")  # as onboard_record.yml's assert puts them
    for secret in (DESCRIBED_PASSWORD, OLD_PASSWORD, NEW_PASSWORD):
        assert secret not in " ".join(problems)


def test_without_a_description_there_is_nothing_to_record_in():
    assert network_registry_problems(REGISTRY, None, **request()) == ["the inventory has no pulsar_network description"]


def test_the_description_checked_holds_the_registry_recorded_not_the_one_read():
    # The registry read holds a weak password that the recorded entry no longer has: only what the run writes counts.
    weak = [{"name": "site_b", "password": "x", "state": "present"}]
    network = description(weak)
    assert network_registry_problems(weak, network, **request(record_state="absent", state="absent")) == []
    assert network_registry_problems(weak, network, **request()) == [
        "pulsar_network endpoint site_b: the password is shorter than 12 characters"]


def test_a_request_that_can_be_recorded_has_no_problem():
    assert network_registry_problems(REGISTRY, description(REGISTRY), **request()) == []
    leaving = request(endpoint="alpha", state="absent", record_state="draining")
    assert network_registry_problems(REGISTRY, description(REGISTRY), **leaving) == []
