"""Shared test plumbing."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from pg_cluster import Cluster, binaries

from importer.sandbox import RunningSandbox, SandboxConfig, serve_in_thread

# CI runs the property tests on a fixed seed (a landing never hangs on a new random case);
# on a workstation each run tries new examples, and what they find becomes an @example.
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


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


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """This worker's own throwaway PostgreSQL (initdb'd into a temp folder, its own port)."""
    bin_dir = binaries()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
            "apt-get install postgresql to run the LSQ_STATE_URL tests"
        )
    cluster = Cluster(bin_dir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def state_url(postgres_cluster: Cluster) -> str:
    """A fresh, empty database on this worker's cluster: its LSQ_STATE_URL (with a password)."""
    return postgres_cluster.create_database(f"t_{uuid.uuid4().hex[:16]}")


@pytest.fixture(params=["sqlite", "postgresql"])
def state_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The state store a test runs against: the embedded files, then a real PostgreSQL."""
    if request.param == "sqlite":
        return {}
    return {"LSQ_STATE_URL": request.getfixturevalue("state_url")}


@pytest.fixture(scope="module")
def served() -> Iterator[RunningSandbox]:
    """One sandbox per test module, quick to answer (a module may override it: its own keys,
    latency...); tests take `sandbox`, which empties it first."""
    with serve_in_thread(SandboxConfig(async_delay=0.05, rate_limit=1000)) as running:
        yield running


@pytest.fixture
def sandbox(served: RunningSandbox) -> RunningSandbox:
    """A new, empty account (CONTRACT 9: no duplicate rule), served over real HTTP."""
    served.sandbox.reset()
    return served
