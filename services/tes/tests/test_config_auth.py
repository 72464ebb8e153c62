"""Settings refused with the key named, and credentials checked as Ansible's filters write them."""

from __future__ import annotations

import hashlib

import pytest
from conftest import settings_data
from passlib.hash import pbkdf2_sha256

from pulsar_network_tes.auth import Unauthenticated, authenticate, verify_pbkdf2
from pulsar_network_tes.config import ConfigError, load, parse


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("store"), "store: missing"),
    (lambda d: d["auth"]["users"][0].pop("name"), "auth.users[0].name: missing"),
    (lambda d: d["auth"]["users"][0].update(admin="yes"), "auth.users[0].admin: expected bool, got str"),
    (lambda d: d["auth"]["users"][0].pop("token_sha256"), "auth.users[0].token_sha256: a user needs a token or a password"),
    (lambda d: d["endpoints"][1].update(cores=True), "endpoints[1].cores: expected int or float, got bool"),
    (lambda d: d.update(endpoints={"a": 1}), "endpoints: expected list, got dict"),
    (lambda d: d["service"].update(storage=["s3://bucket"]),
     "service.storage: service-info lists the service's storage from backend.storage_roots; remove this key"),
])
def test_bad_settings_are_named(tmp_path, change, message):
    data = settings_data(tmp_path)
    change(data)
    with pytest.raises(ConfigError) as error:
        parse(data)
    assert str(error.value) == message


def test_unreadable_settings_file(tmp_path):
    with pytest.raises(ConfigError, match="No such file"):
        load(str(tmp_path / "missing.yml"))


def test_passwords_as_passlib_writes_them():
    encoded = pbkdf2_sha256.hash("s3cret")
    assert verify_pbkdf2("s3cret", encoded)
    assert not verify_pbkdf2("s3cret ", encoded)
    assert not verify_pbkdf2("s3cret", "$sha512$whatever")
    assert not verify_pbkdf2("s3cret", "not a hash")


def test_tokens_are_compared_as_digests(tmp_path):
    settings = parse(settings_data(tmp_path))
    assert authenticate(settings, "Bearer alice-token-0123456789").name == "alice"
    assert authenticate(settings, "Bearer admin-token-0123456789").admin
    digest = hashlib.sha256(b"alice-token-0123456789").hexdigest()
    with pytest.raises(Unauthenticated):
        authenticate(settings, f"Bearer {digest}")  # the stored digest is not itself a token
    with pytest.raises(Unauthenticated):
        authenticate(settings, "Basic !!!")
    with pytest.raises(Unauthenticated):
        authenticate(settings, None)
