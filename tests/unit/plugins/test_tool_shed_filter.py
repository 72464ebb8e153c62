"""Which wanted Tool Shed repositories a Galaxy server still lacks (the usegalaxy_replica role installs those)."""
from ansible_collections.esg.pulsar_network.plugins.filter.tool_shed import repositories_to_install, shed_location

MAIN = "https://toolshed.g2.bx.psu.edu/"


def installed(name="pn_tac", owner="dev", shed="toolshed.g2.bx.psu.edu", status="Installed", revision="abc123"):
    return {"name": name, "owner": owner, "tool_shed": shed, "status": status,
            "changeset_revision": revision, "installed_changeset_revision": revision}


def test_shed_location_drops_scheme_and_trailing_slash():
    assert shed_location("https://toolshed.g2.bx.psu.edu/") == "toolshed.g2.bx.psu.edu"
    assert shed_location("http://127.0.0.1:9009/") == "127.0.0.1:9009"


def test_installed_repository_is_not_installed_again():
    assert repositories_to_install([{"name": "pn_tac", "owner": "dev"}], [installed()], MAIN) == []


def test_missing_repository_gets_the_default_tool_shed():
    assert repositories_to_install([{"name": "pn_tac", "owner": "dev"}], [], MAIN) == [
        {"name": "pn_tac", "owner": "dev", "tool_shed_url": "https://toolshed.g2.bx.psu.edu"}]


def test_same_name_from_another_owner_or_shed_does_not_count():
    wanted = [{"name": "pn_tac", "owner": "dev", "tool_shed_url": "http://127.0.0.1:9009"}]
    assert repositories_to_install(wanted, [installed(), installed(owner="other", shed="127.0.0.1:9009")], MAIN) == wanted


def test_uninstalled_or_failed_installs_count_as_missing():
    wanted = [{"name": "pn_tac", "owner": "dev"}]
    for status in ("Uninstalled", "Error", "Cloning"):
        assert len(repositories_to_install(wanted, [installed(status=status)], MAIN)) == 1, status


def test_a_named_revision_must_be_the_installed_one():
    assert repositories_to_install([{"name": "pn_tac", "owner": "dev", "changeset_revision": "abc123"}],
                                   [installed()], MAIN) == []
    assert len(repositories_to_install([{"name": "pn_tac", "owner": "dev", "changeset_revision": "def456"}],
                                       [installed()], MAIN)) == 1


def test_order_is_kept():
    wanted = [{"name": n, "owner": "dev"} for n in ("c", "a", "b")]
    assert [r["name"] for r in repositories_to_install(wanted, [installed(name="a")], MAIN)] == ["c", "b"]
