"""Each role's preflight, from the one table in preflight_table.py: good settings pass it, and each bad setting stops
the role there, before any change, with a message that says how to fix it."""
import json

import pytest
from preflight_table import ROLES

BAD = [(role, case) for role, (_good, cases) in ROLES.items() for case in cases]


@pytest.mark.parametrize("role", ROLES)
def test_good_settings_pass_the_preflight(run_role, role):
    good, _cases = ROLES[role]
    result = run_role(role, good, "--tags", f"{role}_preflight")
    assert result.returncode == 0, result.stdout[-3000:]
    report = json.loads(result.stdout)
    assert report["stats"]["target"]["changed"] == 0
    checks = [task["task"]["name"] for play in report["plays"] for task in play["tasks"]
              if task["task"]["name"].split(" : ")[-1].startswith("Check")]
    assert len(checks) >= 3, checks


@pytest.mark.parametrize("role, case", BAD, ids=[f"{role}: {case}" for role, case in BAD])
def test_bad_setting_fails_in_preflight_with_how_to_fix(run_role, preflight_failure, role, case):
    good, cases = ROLES[role]
    override, message = cases[case]
    task, messages = preflight_failure(run_role(role, {**good, **override}))
    assert any(message in m for m in messages), messages
    assert task.split(" : ")[-1].startswith(("Check", "Validating arguments"))
