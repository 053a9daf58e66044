"""One permission path (issue 9, finding 5): no module asks another app's rules, nobody outside an app's
rules.py / extensions.py touches a rule object; every question goes through `alliance.permissions`.

Read from the source with `ast`, so that the next shortcut fails here rather than diverging quietly."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from alliance import permissions

ROOT = Path(__file__).resolve().parents[2]
APPS = ("alliance", "members", "demands", "projects", "meetings", "volunteers")
RULE_MODULES_MAY = ("rules.py", "extensions.py")
RULE_OBJECT = re.compile(r"^[A-Z][A-Z0-9_]*_RULES$")


def _modules() -> list[tuple[str, Path]]:
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found.append((app, path))
    return found


def _imported_module(node: ast.ImportFrom, where: str) -> str:
    """The absolute dotted name an ImportFrom reads from (relative imports resolved against `where`)."""
    if not node.level:
        return node.module or ""
    package = where.removesuffix(".py").split("/")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _offences(app: str, where: str, source: str) -> list[str]:
    """What in `source` (the module at `where`, relative to the project, of `app`) goes around the path."""
    tree = ast.parse(source, filename=where)
    rule_module_of_app = where in {f"{app}/{name}" for name in RULE_MODULES_MAY}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if len(parts) >= 2 and parts[-1] == "rules" and parts[0] != app:
                    found.append(f"{where}:{node.lineno} imports {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = _imported_module(node, where)
            parts = module.split(".") if module else []
            names = [alias.name for alias in node.names]
            if parts and parts[-1] == "rules" and parts[0] != app:
                found.append(f"{where}:{node.lineno} imports from {module}")
            if parts and parts[0] != app and "rules" in names:
                found.append(f"{where}:{node.lineno} imports {module}.rules")
            if not rule_module_of_app:
                found += [f"{where}:{node.lineno} imports {n}" for n in names if n.endswith("_RULES")]
        elif isinstance(node, ast.Name) and RULE_OBJECT.match(node.id) and not rule_module_of_app:
            found.append(f"{where}:{node.lineno} references {node.id}")
        elif isinstance(node, ast.Attribute) and RULE_OBJECT.match(node.attr) and not rule_module_of_app:
            found.append(f"{where}:{node.lineno} references {node.attr}")
        elif isinstance(node, ast.Call) and not rule_module_of_app and where != "alliance/permissions.py":
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "rules_for":
                found.append(f"{where}:{node.lineno} calls rules_for()")
    return found


def test_no_module_asks_another_apps_rules_or_a_rule_object_directly():
    offences = [
        offence
        for app, path in _modules()
        for offence in _offences(app, path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))
    ]
    assert offences == []


@pytest.mark.parametrize(
    "source, offence",
    [
        ("from members.rules import liaison_unit_ids\n", "imports from members.rules"),
        ("from members import rules\n", "imports members.rules"),
        ("import members.rules\n", "imports members.rules"),
        ("from ..rules import NEED_RULES\n", "imports NEED_RULES"),
        ("x = NEED_RULES.can_see_contact(u, n)\n", "references NEED_RULES"),
        ("x = rules.CLAIM_RULES.acts_for_claim(u, c)\n", "references CLAIM_RULES"),
        ("x = permissions.rules_for(Need).can_change(u, n)\n", "calls rules_for()"),
    ],
)
def test_the_check_catches_each_shortcut(source, offence):
    """The guard itself can fail: each way around the permission path is reported (here as if written in
    demands/api/views.py, where `..rules` is the demands app's own rules module)."""
    offences = _offences("demands", "demands/api/views.py", source)
    assert len(offences) == 1 and offences[0].endswith(offence), offences


def test_an_apps_own_rules_and_extensions_may_use_its_rule_objects():
    source = "from . import rules\nfrom .rules import NEED_RULES\nregister(Need, rules.NEED_RULES)\n"
    assert _offences("demands", "demands/extensions.py", source) == []
    assert _offences("demands", "demands/rules.py", "NEED_RULES = NeedRules()\n") == []


def test_every_declared_move_names_a_registered_ability(db):
    """A button cannot point at an ability nobody answers: each transition's ability is registered."""
    from django.apps import apps

    from alliance import workflow

    missing = [
        f"{model.__name__}.{t.action}: {t.ability}"
        for model in apps.get_models()
        if (table := workflow.transitions_of(model)) is not None
        for t in table
        if t.ability is not None and t.ability not in permissions._ABILITIES
    ]
    assert missing == []


def test_scopes_are_answered_by_permissions(liaison_a, unit_a, community_x_staff, community_x, street_staff):
    assert permissions.units_of(liaison_a) == frozenset({unit_a.pk})
    assert permissions.communities_of(liaison_a) == frozenset()
    assert permissions.communities_of(community_x_staff) == frozenset({community_x.pk})
    assert permissions.units_of(community_x_staff) == frozenset()
    assert permissions.units_of(None) == frozenset() == permissions.communities_of(None)


def test_an_unknown_ability_is_a_programming_error_not_a_no(liaison_a):
    with pytest.raises(LookupError):
        permissions.has_ability(liaison_a, "meetings.read_minutse", None)


def test_require_ability_refuses_with_404_what_is_not_seen_and_403_what_is_seen(
    liaison_a, liaison_b, community_x_staff, community_x, unit_a
):
    from django.http import Http404

    from alliance.errors import PermissionDenied
    from demands.models import Need

    from ..demands.factories import NeedFactory

    need = NeedFactory(status=Need.Status.DISPATCHED, community=community_x, unit=unit_a)
    assert permissions.require_ability(liaison_a, "demands.act_for_need", need) is None
    with pytest.raises(Http404):
        permissions.require_ability(liaison_b, "demands.act_for_need", need)  # not even visible to it
    with pytest.raises(PermissionDenied) as refused:
        permissions.require_ability(community_x_staff, "demands.act_for_need", need, "只有接单单位的联络员可以操作。")
    assert str(refused.value) == "只有接单单位的联络员可以操作。"
