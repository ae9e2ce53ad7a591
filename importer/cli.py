"""The `lsq-import` command: a thin layer that parses flags, calls the Python API,
prints its summary and picks the exit code. One error boundary: a `UserError`
becomes one line on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from importer.core.config import Mode, Settings, settings_from_env
from importer.core.errors import UserError
from importer.terminal import TerminalProgress

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Import spreadsheets of leads and opportunities into LeadSquared.",
)

ModeOpt = Annotated[str, typer.Option("--mode", help="async (default) or sync capture API.")]
MappingOpt = Annotated[Path, typer.Option("--mapping", "-m", help="YAML mapping file.")]
SheetOpt = Annotated[
    str | None, typer.Option("--sheet", help="Sheet to read (default: first visible).")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", help="Log every API call (keys redacted).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="Print only the summary.")]
StateOpt = Annotated[Path | None, typer.Option("--state-dir", help="Journal and logs folder.")]
RateOpt = Annotated[str | None, typer.Option("--rate", help="e.g. 25/5s or a plan name.")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", min=1, max=64)]
SandboxOpt = Annotated[bool, typer.Option("--sandbox", help="Use the built-in simulator.")]
HeaderRowOpt = Annotated[
    int | None,
    typer.Option("--header-row", min=1, help="Row holding the headers (default: detected)."),
]
InputArg = Annotated[Path, typer.Argument(help="CSV, XLSX, XLS or ODS file.")]
ResultsArg = Annotated[Path, typer.Argument(help="A results workbook written by `run`.")]
PollOpt = Annotated[
    float | None, typer.Option("--poll-timeout", help="Seconds to wait for queued requests.")
]

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


def check_mode(mode: str) -> Mode:
    return Mode.parse(mode)


def build_settings(**overrides: object) -> Settings:
    return settings_from_env(None, None, **{k: v for k, v in overrides.items() if v is not None})


@app.command()
def validate(
    input: InputArg,
    mapping: MappingOpt,
    sheet: SheetOpt = None,
    header_row: HeaderRowOpt = None,
    report: Annotated[Path | None, typer.Option("--report", help="Report workbook path.")] = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Dry run: load, validate and map every row; no network. Writes a validation report."""
    from importer.commands.validate import validate_file

    setup_logging(verbose, quiet)
    with user_errors(verbose):
        result = validate_file(input, mapping, sheet=sheet, header_row=header_row, report=report)
        for warning in result.warnings:
            if not quiet:
                echo_err(f"warning: {warning}")
        typer.echo(result.summary_line())
    raise typer.Exit(result.exit_code)


@app.command()
def run(
    input: InputArg,
    mapping: MappingOpt,
    out: Annotated[Path | None, typer.Option("--out", help="Results workbook path.")] = None,
    mode: ModeOpt = "async",
    rate: RateOpt = None,
    workers: WorkersOpt = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Ignore the journal; start over.")] = False,
    sandbox: SandboxOpt = False,
    sheet: SheetOpt = None,
    header_row: HeaderRowOpt = None,
    state_dir: StateOpt = None,
    poll_timeout: PollOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Import: send every valid row, then write the results workbook."""
    from importer.commands.run import run_import
    from importer.commands.signals import StopSignals

    setup_logging(verbose, quiet)
    with user_errors(verbose):
        chosen = check_mode(mode)
        settings = build_settings(rate=rate, workers=workers, poll_timeout=poll_timeout)
        if fresh and not quiet:
            echo_err(
                "lsq-import: --fresh: every row is sent again, even rows already imported "
                "from this or any other file; LeadSquared may create duplicates of them"
            )
        progress = TerminalProgress() if want_progress(quiet) else None
        with sandbox_settings(settings, sandbox, quiet) as effective, StopSignals() as signals:
            report = run_import(
                input,
                mapping,
                settings=effective,
                mode=chosen,
                out=out,
                sheet=sheet,
                header_row=header_row,
                state_dir=state_dir,
                fresh=fresh,
                progress=progress,
                cancel=signals.stop,
            )
        if not quiet:
            for warning in report.warnings:
                echo_err(f"warning: {warning}")
        typer.echo(report.summary_line())
    raise typer.Exit(report.exit_code)


@contextlib.contextmanager
def sandbox_settings(settings: Settings, enabled: bool, quiet: bool) -> Iterator[Settings]:
    """With --sandbox, start the simulator in-process and point the settings at it."""
    if not enabled:
        yield settings
        return
    from importer.sandbox import SandboxConfig, serve_in_thread

    with serve_in_thread(SandboxConfig()) as running:
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


@app.command()
def watch(
    inbox: Annotated[Path, typer.Argument(help="Folder the nightly files are dropped into.")],
    mapping: MappingOpt,
    once: Annotated[bool, typer.Option("--once", help="Import what is there, then exit.")] = False,
    archive: Annotated[
        Path | None, typer.Option("--archive", help="Where fully imported files go.")
    ] = None,
    failed: Annotated[
        Path | None, typer.Option("--failed", help="Where files with failed rows go.")
    ] = None,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between scans.")] = 30.0,
    settle: Annotated[
        float, typer.Option("--settle", help="A file must be unchanged this long (s) to be read.")
    ] = 5.0,
    mode: ModeOpt = "async",
    rate: RateOpt = None,
    workers: WorkersOpt = None,
    sandbox: SandboxOpt = False,
    sheet: SheetOpt = None,
    header_row: HeaderRowOpt = None,
    state_dir: StateOpt = None,
    poll_timeout: PollOpt = None,
    log_file: Annotated[
        Path | None, typer.Option("--log", help="One JSON line per file (default: state dir).")
    ] = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Import every new spreadsheet dropped into INBOX, one at a time, then archive it."""
    from importer.commands.watch import watch_inbox

    setup_logging(verbose, quiet)
    with user_errors(verbose):
        chosen = check_mode(mode)
        settings = build_settings(rate=rate, workers=workers, poll_timeout=poll_timeout)
        with sandbox_settings(settings, sandbox, quiet) as effective:
            report = watch_inbox(
                inbox,
                mapping,
                archive=archive,
                failed=failed,
                once=once,
                interval=interval,
                settle=settle,
                settings=effective,
                mode=chosen,
                state_dir=state_dir,
                log_file=log_file,
                sheet=sheet,
                header_row=header_row,
                echo=None if quiet else echo_err,
            )
        typer.echo(report.summary_line())
    raise typer.Exit(report.exit_code)


@app.command()
def retry(
    results: ResultsArg,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", "-m", help="Mapping (default: the one recorded).")
    ] = None,
    rate: RateOpt = None,
    state_dir: StateOpt = None,
    poll_timeout: PollOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Send again the rows whose Status is Failure or Pending, and update the workbook."""
    from importer.commands.retry import retry_results

    setup_logging(verbose, quiet)
    with user_errors(verbose):
        settings = build_settings(rate=rate, poll_timeout=poll_timeout)
        progress = TerminalProgress("Retrying") if want_progress(quiet) else None
        report = retry_results(
            results,
            mapping_path=mapping,
            settings=settings,
            state_dir=state_dir,
            progress=progress,
        )
        typer.echo(report.summary_line())
    raise typer.Exit(report.exit_code)


@app.command()
def status(
    results: ResultsArg,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Ask LeadSquared again about the Pending rows, and update the workbook."""
    from importer.commands.status import refresh_status

    setup_logging(verbose, quiet)
    with user_errors(verbose):
        settings = build_settings()
        report = refresh_status(results, settings=settings)
        typer.echo(report.summary_line())
    raise typer.Exit(report.exit_code)


@app.command()
def verify(
    results: ResultsArg,
    mapping: MappingOpt,
    report: Annotated[
        Path | None, typer.Option("--report", help="Reconciliation workbook path.")
    ] = None,
    rate: RateOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Read the imported opportunities back and report missing ones and fields that differ."""
    from importer.commands.verify import verify_results

    setup_logging(verbose, quiet)
    with user_errors(verbose):
        settings = build_settings(rate=rate)
        outcome = verify_results(results, mapping, settings=settings, report=report)
        typer.echo(outcome.summary_line())
    raise typer.Exit(outcome.exit_code)


@app.command()
def rebuild(
    journal: Annotated[Path, typer.Argument(help="A run's journal (*.journal.sqlite).")],
    out: Annotated[Path | None, typer.Option("--out", help="Results workbook path.")] = None,
) -> None:
    """Write a run's results workbook again from its journal alone (no input, no network)."""
    from importer.commands.rebuild import rebuild_results

    with user_errors():
        typer.echo(f"Results rebuilt from the journal: {rebuild_results(journal, out)}")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    mappings: Annotated[
        Path, typer.Option("--mappings", help="Folder of mapping files to offer.")
    ] = Path("mappings"),
    work: Annotated[
        Path, typer.Option("--work", help="Folder for uploads, results and run state.")
    ] = Path(".lsq-serve"),
    sandbox: SandboxOpt = False,
    token: Annotated[
        str | None, typer.Option("--token", help="Token the page asks for (or LSQ_UI_TOKEN).")
    ] = None,
    max_upload: Annotated[
        int, typer.Option("--max-upload", min=1, help="Largest upload, in MB.")
    ] = 200,
    header_row: Annotated[
        int | None, typer.Option("--header-row", min=1, help="Default header row.")
    ] = None,
    sheet: SheetOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """The page for ops: upload, check, import and follow up, in a browser."""
    from importer.core.config import read_environment
    from importer.web import WebConfig, hosts_for, serve_forever

    setup_logging(verbose, quiet=False)
    with user_errors(verbose):
        token = token or read_environment().get("LSQ_UI_TOKEN") or None
        allowed = hosts_for(host, token)
        settings = build_settings()
        with sandbox_settings(settings, sandbox, quiet=True) as effective:
            if not sandbox and not effective.access_key:
                echo_err(
                    "lsq-import: no LeadSquared keys found (LSQ_ACCESS_KEY...): files can be "
                    "checked, but importing needs them in the environment or .env (or --sandbox)"
                )
            config = WebConfig(
                work_dir=work,
                mappings_dir=mappings,
                settings=effective,
                token=token,
                max_upload_bytes=max_upload * 1024 * 1024,
                sheet=sheet,
                header_row=header_row,
                allowed_hosts=allowed,
                sandbox=sandbox,
            )
            trial = " (sandbox: nothing reaches LeadSquared)" if sandbox else ""
            serve_forever(
                config,
                host,
                port,
                announce=lambda url: typer.echo(f"Open {url} in a browser{trial}. Ctrl-C stops."),
            )


@app.command("sandbox")
def sandbox_command(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 8765,
    rate_limit: Annotated[int, typer.Option("--rate-limit", help="Calls per window.")] = 25,
    async_delay: Annotated[float, typer.Option("--async-delay", help="Queue delay, s.")] = 1.0,
    latency: Annotated[float, typer.Option("--latency", help="Added to each answer, s.")] = 0.0,
    error_rate: Annotated[float, typer.Option("--error-rate", help="Fraction of 500s.")] = 0.0,
    drop_rate: Annotated[
        float, typer.Option("--drop-rate", help="Fraction of lost replies.")
    ] = 0.0,
    burst_429: Annotated[float, typer.Option("--burst-429", help="Fraction of 429s.")] = 0.0,
    seed: Annotated[int | None, typer.Option("--seed", help="Repeatable faults.")] = None,
) -> None:
    """Run the LeadSquared simulator and print the LSQ_… lines that point lsq-import at it."""
    from importer.sandbox import SandboxConfig, run_forever

    with user_errors():
        config = SandboxConfig.from_options(
            rate_limit=rate_limit,
            async_delay=async_delay,
            latency=latency,
            error_rate=error_rate,
            drop_rate=drop_rate,
            burst_429=burst_429,
            seed=seed,
        )
        run_forever(config, port)


map_app = typer.Typer(
    no_args_is_help=True, help="Draft a mapping, or fit one to a file whose headers changed."
)
app.add_typer(map_app, name="map")


@map_app.command("suggest")
def map_suggest(
    input: InputArg,
    from_mapping: Annotated[
        Path | None, typer.Option("--from", help="Re-target this mapping to INPUT's headers.")
    ] = None,
    event_code: Annotated[
        int | None, typer.Option("--event-code", min=1, help="The opportunity type's code.")
    ] = None,
    sheet: SheetOpt = None,
    header_row: HeaderRowOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Mapping to write (default: <input>.mapping.yaml).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")] = False,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Draft a mapping from INPUT's headers and values (or re-target one with --from)."""
    from importer.commands.suggest import default_mapping_path, suggest_mapping

    with user_errors(verbose):
        target = out or default_mapping_path(input)
        suggestion = suggest_mapping(
            input,
            event_code=event_code,
            sheet=sheet,
            header_row=header_row,
            from_mapping=from_mapping,
            out=target,
        )
        written = suggestion.write(target, force=force)
        if not quiet:
            for line in format_table(suggestion.table()):
                typer.echo(line)
            for note in suggestion.notes:
                echo_err(f"note: {note}")
        typer.echo(suggestion.summary_line(written))
    raise typer.Exit(suggestion.exit_code)


def format_table(rows: list[tuple[str, str, str, str]]) -> list[str]:
    """Aligned columns: column → field, confidence, why."""
    head = ("column", "field", "sure", "why")
    widths = [min(34, max(len(row[i]) for row in [head, *rows])) for i in range(3)]
    return [
        f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}" for a, b, c, d in [head, *rows]
    ]


def main() -> None:
    app(prog_name="lsq-import")
