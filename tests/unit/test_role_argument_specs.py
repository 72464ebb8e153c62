"""Every public role variable is documented in meta/argument_specs.yml, with the default it really has."""
import pathlib
import re

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROLES = sorted(p.parent.parent for p in pathlib.Path(__file__).resolve().parents[2].glob("roles/*/meta/argument_specs.yml"))
# An internal role (roles/common) has no main entry point and no defaults: its entry points take parameters.
INTERNAL = [role for role in ROLES if "main" not in yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]]
PUBLIC = [role for role in ROLES if role not in INTERNAL]


def load(path: pathlib.Path):
    return yaml.safe_load(path.read_text()) or {}


@pytest.mark.parametrize("role", PUBLIC, ids=lambda r: r.name)
def test_every_default_is_specified_with_the_same_default(role):
    defaults = load(role / "defaults" / "main.yml")
    options = load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(defaults) == sorted(options), "defaults/main.yml and meta/argument_specs.yml list different variables"
    for name, value in defaults.items():
        assert options[name].get("default") == value, f"{name}: default differs between defaults/ and argument_specs"
        assert options[name].get("description"), f"{name} has no description"


@pytest.mark.parametrize("role", PUBLIC, ids=lambda r: r.name)
def test_other_entry_points_take_variables_of_main_with_the_same_defaults(role):
    defaults = load(role / "defaults" / "main.yml")
    for entry_point, spec in load(role / "meta" / "argument_specs.yml")["argument_specs"].items():
        assert (role / "tasks" / f"{entry_point}.yml").is_file(), f"entry point {entry_point} has no tasks file"
        for name, option in spec.get("options", {}).items():
            assert name in defaults, f"{entry_point}: {name} is not in defaults/main.yml"
            assert option.get("default") == defaults[name], f"{entry_point}: {name}'s default differs"


@pytest.mark.parametrize("role", INTERNAL, ids=lambda r: r.name)
def test_an_internal_roles_entry_points_take_its_own_parameters(role):
    # Ansible's validation sets no defaults: an optional parameter needs its default in defaults/main.yml too.
    defaults = load(role / "defaults" / "main.yml")
    optional = {}
    for entry_point, spec in load(role / "meta" / "argument_specs.yml")["argument_specs"].items():
        assert (role / "tasks" / f"{entry_point}.yml").is_file(), f"entry point {entry_point} has no tasks file"
        for name, option in spec.get("options", {}).items():
            assert name.startswith(role.name + "_"), f"{entry_point}: {name}"
            if not option.get("required"):
                optional[name] = option.get("default")
    assert defaults == optional, "defaults/main.yml must hold exactly the optional parameters, with their defaults"


@pytest.mark.parametrize("role", PUBLIC, ids=lambda r: r.name)
def test_public_variables_carry_the_role_prefix(role):
    for name in load(role / "defaults" / "main.yml"):
        assert name.startswith(role.name + "_"), name


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_private_variables_live_in_vars(role):
    for name in load(role / "vars" / "main.yml"):
        assert name.startswith(f"__{role.name}_"), name


def test_every_role_has_argument_specs(repo):
    roles = sorted(p.name for p in (repo / "roles").iterdir() if p.is_dir())
    assert roles == [r.name for r in ROLES]


# --- Entry points other than main take the role variables their task files use ------------------------------------
# Ansible validates an entry point's options when include_role/import_role runs it (tasks_from), and nothing else: a
# variable its tasks use but it does not list goes unchecked. What a task file uses: the names of role variables
# (defaults/main.yml) in it, in the files it imports or includes, the templates it writes, the handlers it notifies
# and the role's private variables (vars/main.yml) those name, followed through.

def _optional(path: pathlib.Path):
    return load(path) if path.is_file() else {}


def _strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def _tasks(node):
    """Every task of a task list, inside blocks too."""
    for task in node if isinstance(node, list) else []:
        if isinstance(task, dict):
            yield task
            for key in ("block", "rescue", "always"):
                yield from _tasks(task.get(key))


def _action(task: dict, *names: str):
    """The task's argument for the first of the actions NAMES it runs (short, ansible.builtin. or ansible.legacy.)."""
    for name in names:
        for prefix in ("", "ansible.builtin.", "ansible.legacy."):
            if prefix + name in task:
                return task[prefix + name]
    return None


def _files(folder: pathlib.Path, name: str) -> list[pathlib.Path]:
    """The files a (possibly templated) file name can be: a {{ ... }} part matches anything."""
    return sorted(folder.glob(re.sub(r"\{\{.*?\}\}", "*", name)))


def used_variables(role: pathlib.Path, entry_point: str, names: set[str]) -> set[str]:
    """Which of NAMES (role variables) the entry point's task file uses, directly or through what it runs."""
    texts, notified, queue, seen = [], set(), [role / "tasks" / f"{entry_point}.yml"], set()
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        data = load(path)
        texts += _strings(data)
        for task in _tasks(data):
            included = _action(task, "import_tasks", "include_tasks")
            if included:
                queue += _files(role / "tasks", included.get("file") if isinstance(included, dict) else included)
            template = _action(task, "template")
            if isinstance(template, dict):
                texts += [path.read_text() for path in _files(role / "templates", template["src"])]
            notify = task.get("notify") or []
            notified |= {notify} if isinstance(notify, str) else set(notify)
    for handler in _tasks(_optional(role / "handlers" / "main.yml")):
        if notified & {handler.get("name"), handler.get("listen")}:
            texts += _strings(handler)
    private, used, followed = _optional(role / "vars" / "main.yml"), set(), set()
    while texts:
        for word in set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", texts.pop())):
            if word in private and word not in followed:
                followed.add(word)
                texts += _strings(private[word])
            elif word in names and word not in used:
                used.add(word)
                texts += _strings(_optional(role / "defaults" / "main.yml").get(word))
    return used


ENTRY_POINTS = [(role, name) for role in ROLES for name in load(role / "meta" / "argument_specs.yml")["argument_specs"]
                if name != "main"]


@pytest.mark.parametrize("role, entry_point", ENTRY_POINTS, ids=lambda value: getattr(value, "name", value))
def test_entry_points_take_the_role_variables_their_tasks_use(role, entry_point):
    specs = load(role / "meta" / "argument_specs.yml")["argument_specs"]
    options = specs[entry_point].get("options") or {}
    main = (specs.get("main") or {}).get("options") or {}
    used = used_variables(role, entry_point, set(_optional(role / "defaults" / "main.yml")) | set(options))
    assert sorted(used - set(options)) == [], f"{entry_point} uses role variables it does not list in its options"
    # A preflight checks what the main entry point takes, and may list all of it; any other lists what it uses.
    if options != main:
        assert sorted(set(options) - used) == [], f"{entry_point} lists options its tasks do not use"


@pytest.mark.parametrize("role, entry_point", ENTRY_POINTS, ids=lambda value: getattr(value, "name", value))
def test_entry_points_take_main_options_as_main_defines_them(role, entry_point):
    specs = load(role / "meta" / "argument_specs.yml")["argument_specs"]
    main = (specs.get("main") or {}).get("options") or {}
    for name, option in (specs[entry_point].get("options") or {}).items():
        if name in main:
            for key in ("type", "elements", "choices", "default", "no_log", "required"):
                assert option.get(key) == main[name].get(key), f"{entry_point}: {name}'s {key} differs from main's"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_role_defaults_pass_the_validation_of_every_entry_point(role):
    """Ansible validates an entry point's options, role defaults included, before its first task."""
    defaults = _optional(role / "defaults" / "main.yml")
    for entry_point, spec in load(role / "meta" / "argument_specs.yml")["argument_specs"].items():
        for name, option in (spec.get("options") or {}).items():
            if name in defaults and "{{" not in str(defaults[name]):  # a template is validated as it renders
                result = ArgumentSpecValidator({name: option}).validate({name: defaults[name]})
                assert result.error_messages == [], f"{entry_point}: {name}"
