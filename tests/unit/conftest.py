import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from src_collections import REPO, link_checkout  # noqa: E402

# The repository root, for the lab's controller-side programs (`from tests.lab import fault_report`).
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))

_ROOT = link_checkout()
# Ansible's collection loader, as ansible-test installs it: plugins then load by their FQCN (the inventory tests).
from ansible.plugins.loader import init_plugin_loader  # noqa: E402

init_plugin_loader([str(_ROOT)])


@pytest.fixture(scope="session")
def repo() -> pathlib.Path:
    return REPO
