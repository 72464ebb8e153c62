"""The collection's shared code that the roles install into services (roles/common) is exactly what the services
import, with what that code imports in turn; and the TES service declares what it takes."""
import ast
import pathlib
import re
import tomllib

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
MODULE_UTILS = REPO / "plugins" / "module_utils"
PACKAGE = "ansible_collections.esg.pulsar_network.plugins.module_utils"
# Each service that imports the shared code: its files, by glob below the repository.
SERVICES = {
    "tes": ["services/tes/src/pulsar_network_tes/*.py"],
    "galaxy": ["roles/usegalaxy_replica/files/*.py", "roles/usegalaxy_replica/templates/*.j2"],
    "pulsar_watchdog": ["roles/pulsar/files/*.py"],
}
TEXT_IMPORT = re.compile(rf"from {re.escape(PACKAGE)}(?:\.(\w+))? import ([\w, ()]+)")


def imported(path: pathlib.Path) -> set[str]:
    """The shared modules PATH imports, as file names."""
    text = path.read_text()
    if path.suffix != ".py":  # a template that writes Python: the imports are text
        found = set()
        for module, names in TEXT_IMPORT.findall(text):
            found |= {module} if module else {n.strip() for n in names.strip("()").split(",") if n.strip()}
        return {f"{name}.py" for name in found}
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module == PACKAGE:
            found |= {f"{alias.name}.py" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE + "."):
            found.add(node.module.rsplit(".", 1)[1] + ".py")
        elif isinstance(node, ast.Import):
            found |= {a.name.rsplit(".", 1)[1] + ".py" for a in node.names if a.name.startswith(PACKAGE + ".")}
    return found


def closure(files: set[str]) -> set[str]:
    """FILES and every shared module they import, transitively."""
    seen, todo = set(), list(files)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            assert (MODULE_UTILS / name).is_file(), f"{name} is imported but is not in plugins/module_utils"
            todo.extend(imported(MODULE_UTILS / name) - seen)
    return seen


def service_needs(globs: list[str]) -> set[str]:
    return closure(set().union(*(imported(path) for pattern in globs for path in sorted(REPO.glob(pattern)))))


def installed() -> list[str]:
    return yaml.safe_load((REPO / "roles/common/vars/main.yml").read_text())["__common_shared_code"]


@pytest.mark.parametrize("service", SERVICES)
def test_the_installed_list_covers_every_import_of_the_service(service):
    needs = service_needs(SERVICES[service])
    assert needs, f"{service} imports none of the shared code: is SERVICES out of date?"
    assert needs <= set(installed()), f"{service} imports {sorted(needs - set(installed()))}, which are not installed"


def test_the_installed_list_holds_nothing_no_service_imports():
    needed = set().union(*(service_needs(globs) for globs in SERVICES.values()))
    assert sorted(installed()) == sorted(needed)
    assert all((MODULE_UTILS / name).is_file() for name in installed())


def test_the_tes_service_declares_the_shared_code_it_imports():
    declared = tomllib.loads((REPO / "services/tes/pyproject.toml").read_text())["tool"]["esg-pulsar-network"]
    assert sorted(declared["shared-code"]) == sorted(service_needs(SERVICES["tes"]))


def test_a_template_import_is_read(tmp_path):
    template = tmp_path / "hook.j2"
    template.write_text(f"~ 'from {PACKAGE}.routing import rank\\n'")
    assert imported(template) == {"routing.py"}
