"""The public surface is what `importer.__all__` says, and every name in it resolves."""

from __future__ import annotations

import importlib
import subprocess
import sys

import importer


def test_every_public_name_resolves() -> None:
    for name in importer.__all__:
        assert getattr(importer, name) is not None, name


def test_all_is_sorted_and_unique() -> None:
    assert importer.__all__ == sorted(set(importer.__all__))


def test_python_dash_m_is_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "importer", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("validate", "run", "watch", "retry", "status", "verify", "sandbox"):
        assert command in done.stdout


def test_the_sandbox_does_not_pull_in_the_importer() -> None:
    code = (
        "import sys, importer.sandbox; "
        "bad = [m for m in sys.modules if m.startswith('importer.') and "
        "not m.startswith(('importer.sandbox', 'importer.core')) and m != 'importer.core'"
        "]; print(bad); assert not bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    importlib.import_module("importer.sandbox")
