"""The CLI's one error boundary, and what every command does before calling the library."""

from __future__ import annotations

import contextlib
import logging
import shlex
import sys
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import typer

from importer.core.config import Mode, Settings, settings_from_env
from importer.core.conventions import INPUT_SUFFIXES
from importer.core.errors import UserError
from importer.terminal import EstimateLine, TerminalProgress

MAPPING_SUFFIXES = (".yaml", ".yml")
log = logging.getLogger("importer")


def echo_err(message: str) -> None:
    typer.echo(message, err=True)


@contextlib.contextmanager
def user_errors(verbose: bool = False) -> Iterator[None]:
    """The CLI's one error boundary."""
    try:
        yield
    except UserError as exc:
        echo_err(f"lsq-import: {exc}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        echo_err("lsq-import: interrupted; run the same command again to resume")
        raise typer.Exit(2) from None
    except typer.Exit:
        raise
    except Exception as exc:  # a bug of ours: one line, the traceback only with --verbose
        if verbose:
            raise
        echo_err(
            f"lsq-import: unexpected error ({type(exc).__name__}: {exc}); rerun with --verbose"
        )
        raise typer.Exit(2) from None


def setup_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("importer")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def want_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


def pick_progress(quiet: bool, description: str = "Importing") -> EstimateLine | None:
    """A bar on a terminal; elsewhere only the line saying how long the import will take."""
    if quiet:
        return None
    return TerminalProgress(description) if sys.stderr.isatty() else EstimateLine()


def check_mode(mode: str) -> Mode:
    return Mode.parse(mode)


def build_settings(**overrides: object) -> Settings:
    return settings_from_env(None, None, **{k: v for k, v in overrides.items() if v is not None})


def check_order(command: str, input: Path, mapping: Path) -> None:
    """`validate loan.yaml -m leads.csv`: the two files given the wrong way round."""
    if input.suffix.lower() in MAPPING_SUFFIXES and mapping.suffix.lower() in INPUT_SUFFIXES:
        right = f"lsq-import {command} {shlex.quote(str(mapping))} -m {shlex.quote(str(input))}"
        raise UserError(
            f"{input.name} and {mapping.name} look swapped: the spreadsheet comes first and "
            f"the mapping after -m, as in: {right}"
        )


def _show_version(wanted: bool) -> None:
    if wanted:
        try:
            number = version("lsq-import")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "unknown"
        typer.echo(f"lsq-import {number}")
        raise typer.Exit(0)


@contextlib.contextmanager
def sandbox_settings(
    settings: Settings, enabled: bool, quiet: bool, *, duplicate_rule: bool = False
) -> Iterator[Settings]:
    """With --sandbox, start the simulator in-process and point the settings at it.

    It is a new account: no duplicate rule unless `duplicate_rule` asks for one.
    """
    if not enabled:
        yield settings
        return
    from importer.sandbox import SandboxConfig, serve_in_thread

    with serve_in_thread(SandboxConfig(duplicate_detection=duplicate_rule)) as running:
        env = running.env()
        if not quiet:
            echo_err(f"lsq-import: using the built-in sandbox at {running.base_url}")
        yield settings.with_(
            host=env["LSQ_HOST"],
            async_host=env["LSQ_ASYNC_HOST"],
            access_key=env["LSQ_ACCESS_KEY"],
            secret_key=env["LSQ_SECRET_KEY"],
            api_key=env["LSQ_API_KEY"],
        )
