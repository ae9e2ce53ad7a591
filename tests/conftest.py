"""Shared test plumbing."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _restore_importer_logging() -> Iterator[None]:
    """The CLI configures the `importer` logger (as a program should); undo it between tests."""
    logger = logging.getLogger("importer")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved
