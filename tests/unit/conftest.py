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


@pytest.fixture(scope="session")
def repo() -> pathlib.Path:
    return REPO
