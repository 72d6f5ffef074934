"""The Makefile: `make run` installs the app alone; tests, lint and benchmarks the dev extras."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def planned(target: str) -> list[str]:
    """The pip commands `make TARGET` would run in a fresh clone (-B: as if nothing were made)."""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    done = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return [line for line in done.stdout.splitlines() if "pip install" in line]


def test_make_run_installs_no_dev_extras():
    pips = planned("run")
    assert any(line.endswith("pip install --quiet -e .") for line in pips), pips
    assert not any("[dev]" in line for line in pips), pips


@pytest.mark.parametrize("target", ["test", "lint", "bench", "fraud"])
def test_tests_lint_and_benchmarks_install_the_dev_extras(target):
    assert any(line.endswith("pip install --quiet -e '.[dev]'") for line in planned(target))
