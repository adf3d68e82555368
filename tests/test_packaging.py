"""Packaging facts that nothing else would catch: CI's lowest-versions run tests the declared floors,
and the version the package reports is the one pyproject.toml declares."""
import importlib.metadata
import re
from pathlib import Path

import pytest

import tinygrad_np

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
FLOOR = re.compile(r"([A-Za-z0-9_.-]+)>=([0-9][0-9.]*)")
PIN = re.compile(r"([A-Za-z0-9_.-]+)==([0-9][0-9.]*)")


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def declared_floors() -> dict:
    """{package: lowest version} for every runtime and test dependency in pyproject.toml."""
    project = pyproject()["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    floors = {}
    for requirement in requirements:
        match = FLOOR.fullmatch(requirement)
        assert match, f"pyproject.toml: {requirement!r} is not 'name>=version', so CI cannot test its floor"
        floors[match[1].lower()] = match[2]
    return floors


def lowest_pins() -> dict:
    """{package: version} pinned by .ci/lowest.txt, the constraints of CI's lowest-versions venv."""
    pins = {}
    for number, line in enumerate((ROOT / ".ci" / "lowest.txt").read_text().splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            match = PIN.fullmatch(line.strip())
            assert match, f".ci/lowest.txt line {number}: {line!r} is not 'name==version'"
            pins[match[1].lower()] = match[2]
    return pins


def test_ci_pins_exactly_the_declared_floors():
    assert lowest_pins() == declared_floors()


def test_version_is_the_declared_one_or_unknown_when_not_installed():
    try:
        installed = importlib.metadata.version("tinygrad-np")
    except importlib.metadata.PackageNotFoundError:
        assert tinygrad_np.__version__ == "0+unknown"
    else:
        assert installed == pyproject()["project"]["version"], "the installed tinygrad-np is stale: reinstall it"
        assert tinygrad_np.__version__ == installed
