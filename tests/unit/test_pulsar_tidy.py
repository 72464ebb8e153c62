"""pulsar-tidy against staging directories a job could name to turn it against Pulsar: spaces, '*', a newline and
'..' in names. Only old, untracked direct children of staging go; nothing outside staging is touched."""
import os
import pathlib
import subprocess
import time

import jinja2
import pytest

TEMPLATE = pathlib.Path(__file__).resolve().parents[2] / "roles/pulsar/templates/pulsar-tidy.sh.j2"
OLD = time.time() - 30 * 86400

# Names a job running as the Pulsar user can create in staging, each meant to make a naive loop remove something else.
HOSTILE = ["x var", "*", "evil\nvar", ".. var", "..x", "a ..", "[a-z]*", "$(touch pwned)", "-rf"]


@pytest.fixture
def site(tmp_path):
    """A service root like the unit's: its working directory holds 'var' (standing in for Pulsar's own state)."""
    root = tmp_path / "root"
    staging = root / "srv/staging"
    persistence = root / "var/lib/pulsar/persisted_data"
    (persistence / "manager-active-jobs").mkdir(parents=True)
    staging.mkdir(parents=True)
    (root / "var/keep-me").write_text("Pulsar's state")

    def make(name, old=True):
        path = staging / name
        path.mkdir()
        (path / "file").write_text("x")
        if old:
            os.utime(path, (OLD, OLD))
        return path

    return root, staging, persistence, make


def tidy(root, staging, persistence):
    script = root / "pulsar-tidy"
    environment = jinja2.Environment()
    environment.filters["comment"] = lambda text: f"# {text}"
    script.write_text(environment.from_string(TEMPLATE.read_text()).render(ansible_managed="managed"))
    script.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "PULSAR_STAGING_DIR": str(staging),
           "PULSAR_PERSISTENCE_DIR": str(persistence), "PULSAR_TIDY_MAX_AGE_DAYS": "7"}
    # cwd is the service's: a relative path that escaped the loop would land here.
    return subprocess.run([str(script)], cwd=root, env=env, capture_output=True, text=True, timeout=30, check=False)


def test_only_old_untracked_job_directories_go(site):
    root, staging, persistence, make = site
    make("101")
    active = make("102")
    (persistence / "manager-active-jobs" / "102").write_text("")
    recent = make("103", old=False)
    hostile = [make(name) for name in HOSTILE]
    (staging / "stray-file").write_text("not a directory")

    result = tidy(root, staging, persistence)

    # Nothing outside staging: Pulsar's state in the service's working directory, and no command was run.
    assert (root / "var/keep-me").exists(), "a name in staging made the tidy-up remove the service's var/"
    assert (persistence / "manager-active-jobs" / "102").exists()
    assert not (root / "pwned").exists() and not (staging / "pwned").exists()
    assert result.returncode == 0, result.stderr
    assert not (staging / "101").exists()
    assert active.exists() and recent.exists() and (staging / "stray-file").exists()
    assert not any(path.exists() for path in hostile), [p.name for p in hostile if p.exists()]
    assert f"removed {1 + len(HOSTILE)} staging directories" in result.stdout


def test_a_tracked_job_with_a_glob_in_its_name_protects_only_itself(site):
    root, staging, persistence, make = site
    tracked = make("*")
    (persistence / "manager-active-jobs" / "*").write_text("")
    other = make("104")
    assert tidy(root, staging, persistence).returncode == 0
    assert tracked.exists() and not other.exists()


def test_a_symlink_out_of_staging_is_not_followed(site, tmp_path):
    root, staging, persistence, _make = site
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("x")
    (staging / "link").symlink_to(outside)
    os.utime(staging / "link", (OLD, OLD), follow_symlinks=False)
    assert tidy(root, staging, persistence).returncode == 0
    assert (outside / "precious").exists()
