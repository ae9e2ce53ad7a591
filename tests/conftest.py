"""Shared test plumbing."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _restore_importer_logging() -> Iterator[None]:
    """The CLI configures the `importer` logger (as a program should); undo it between tests."""
    logger = logging.getLogger("importer")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture(autouse=True)
def _private_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per-account state (ledger, rate budget) lives under HOME: never the real one in tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("LSQ_STATE_HOME", raising=False)


@pytest.fixture
def no_lsq_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No LSQ_ setting from the machine running the tests, and the test's folder as cwd."""
    for key in list(os.environ):
        if key.startswith("LSQ_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path
