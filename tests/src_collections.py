"""The checkout as ansible_collections.esg.pulsar_network (a symlink under .build/src-collections), importable by
the collection's unit tests and the TES service's tests without installing the collection."""

import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
ROOT = REPO / ".build" / "src-collections"


def link_checkout() -> pathlib.Path:
    link = ROOT / "ansible_collections" / "esg" / "pulsar_network"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO, target_is_directory=True)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return ROOT
