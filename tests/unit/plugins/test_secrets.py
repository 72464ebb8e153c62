"""The one secret rule every role's preflight and the AMQP layer use: placeholders and short values are refused,
and the reasons name the variable, never the value."""
import pytest

from ansible_collections.esg.pulsar_network.plugins.filter.secrets import FilterModule
from ansible_collections.esg.pulsar_network.plugins.module_utils.secrets import secret_problem

weak_secrets = FilterModule().filters()["weak_secrets"]


@pytest.mark.parametrize("value", [
    "CHANGE-ME: 32 random characters",  # the example vault's own value, long enough to pass a length check
    "change-me-change-me-change-me-change-me",
    "ChangeMe-before-production-please-ok",
    "change_me_0123456789012345678901234",
    "this-is-a-PLACEHOLDER-value-0123456789",
    "guest", "Password", "rabbitmq", "condor",
])
def test_placeholders_are_refused_whatever_their_length_or_case(value):
    assert "is a placeholder" in secret_problem("my_secret", value, 12)


@pytest.mark.parametrize("value, min_length, problem", [
    ("x" * 11, 12, "is shorter than 12"),
    ("x" * 12, 12, ""),
    ("k" * 31, 32, "is shorter than 32"),
    ("k" * 32, 32, ""),
    ("", 12, "is empty"),
    (None, 12, "is empty"),
])
def test_length(value, min_length, problem):
    assert (problem in secret_problem("my_secret", value, min_length)) if problem else secret_problem("s", value, min_length) == ""


def test_the_filter_lists_each_problem_by_name_without_the_values():
    problems = weak_secrets({"a_password": "CHANGE-ME: long enough to pass length", "an_api_key": "short-but-random",
                             "fine": "a-perfectly-random-value-of-32-chars!"}, 32)
    assert problems == ["a_password is a placeholder: set a random value from a vault",
                        "an_api_key is shorter than 32 characters"]
    assert not any("short-but-random" in p or "CHANGE-ME" in p for p in problems)


def test_pbkdf2_sha256_is_passlibs_format_and_stable():
    from passlib.hash import pbkdf2_sha256

    from ansible_collections.esg.pulsar_network.plugins.module_utils.secrets import pbkdf2_sha256_hash

    hashed = pbkdf2_sha256_hash("a long password", "0123456789abcdef")
    assert hashed == pbkdf2_sha256_hash("a long password", "0123456789abcdef")
    assert hashed != pbkdf2_sha256_hash("a long password", "fedcba9876543210")
    assert hashed.startswith("$pbkdf2-sha256$29000$")
    assert pbkdf2_sha256.verify("a long password", hashed)
    assert not pbkdf2_sha256.verify("another password", hashed)
