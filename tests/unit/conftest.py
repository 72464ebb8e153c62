import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

# Import the collection from this checkout (not an installed copy) as ansible_collections.esg.pulsar_network.
_ROOT = REPO / ".build" / "src-collections"
_LINK = _ROOT / "ansible_collections" / "esg" / "pulsar_network"
if not _LINK.exists():
    _LINK.parent.mkdir(parents=True, exist_ok=True)
    _LINK.symlink_to(REPO, target_is_directory=True)
sys.path.insert(0, str(_ROOT))
# Ansible's collection loader, as ansible-test installs it: plugins then load by their FQCN (the inventory tests).
from ansible.plugins.loader import init_plugin_loader  # noqa: E402

init_plugin_loader([str(_ROOT)])


@pytest.fixture(scope="session")
def repo() -> pathlib.Path:
    return REPO
