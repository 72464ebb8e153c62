"""The check against configuration injection: each kind refuses what would change a file's meaning."""
import pytest

from ansible_collections.esg.pulsar_network.plugins.filter.settings import FilterModule

setting_problems = FilterModule().filters()["setting_problems"]


@pytest.mark.parametrize("kind, good, bad", [
    ("line", ["pool of site A", "$(STARTD_ATTRS) GalaxyGroup", "*-*-* 03:00"], ["a\nb", "a\r", "trailing\n", "nul\x00"]),
    ("word", ["10.1.0.0/16", "2GB", "0.4", ".cern.ch"], ["a b", "a\tb", "a\nb", ""]),
    ("shell", ["data.galaxyproject.org", "http://s1/cvmfs/@fqrn@", "DIRECT"], ['a"b', "$(id)", "`id`", "a\\b", "a\nb"]),
    ("domain", ["pool.example.org", "net-head", "target", "x1"], ["*", "*.example.org", "a..b", "-a", "a.", "pool.org\n", ""]),
    ("path", ["/opt/pulsar/venv", "/srv/pulsar/staging"], ["relative", "/a b", "/var/lib/%u", "/x\nUser=root", "/"[:0]]),
])
def test_each_kind(kind, good, bad):
    for value in good:
        assert setting_problems({"v": value}, kind) == [], value
    for value in bad:
        assert setting_problems({"v": value}, kind), repr(value)


def test_values_inside_lists_and_mappings_are_checked_and_reasons_name_the_variable_only():
    problems = setting_problems({"ok": ["a", {"b": "c"}], "nested": [["fine"], {"KEY": "v\nINJECTED=1"}]}, "line")
    assert problems == ["nested holds a line break or control character"]
    assert "INJECTED" not in problems[0]


def test_an_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="kind must be one of"):
        setting_problems({"v": "x"}, "yaml")
