"""The resolved dependency set must stay inside the ranges that are known to work together.

celery 5.6 declares `kombu>=5.6` with no upper bound: without the pins an install pulls kombu 5.7 and
redis 8 (RESP3 by default, 5 s socket timeouts that break the worker's blocking reads)."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _declared() -> dict[str, SpecifierSet]:
    from packaging.requirements import Requirement

    deps = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    return {Requirement(d).name.lower(): Requirement(d).specifier for d in deps}


def test_kombu_and_redis_are_pinned_in_pyproject():
    declared = _declared()
    assert declared["kombu"] and Version("5.7.0") not in declared["kombu"]
    assert declared["redis"] and Version("8.0.0") not in declared["redis"]
    assert Version("6.5.0") not in declared["redis"]


def test_installed_versions_are_the_ones_celery_and_kombu_support():
    assert Version(version("celery")) in SpecifierSet("==5.6.*")
    assert Version(version("kombu")) in SpecifierSet("==5.6.*")
    assert Version(version("redis")) in SpecifierSet(">=5.2,<6.5")
    assert Version(version("django")) in SpecifierSet("==5.2.*")


def test_every_installed_dependency_satisfies_its_pin():
    for name, spec in _declared().items():
        assert Version(version(name)) in spec, f"{name} {version(name)} is outside {spec}"
