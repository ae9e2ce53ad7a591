"""The `lsq-import` command: a thin layer that parses flags, calls the Python API,
prints its summary and picks the exit code. One error boundary: a `UserError`
becomes one line on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from importer.cli.boundary import (
    MAPPING_SUFFIXES,
    _show_version,
    build_settings,
    check_mode,
    check_order,
    echo_err,
    pick_progress,
    sandbox_settings,
    setup_logging,
    user_errors,
    want_progress,
)
from importer.cli.help import Command, Group
from importer.cli.options import (
    DuplicateRuleOpt,
    HeaderRowOpt,
    InputArg,
    MappingOpt,
    ModeOpt,
    NotifyOnOpt,
    NotifyOpt,
    OutOpt,
    PollOpt,
    QuietOpt,
    RateOpt,
    ResultsArg,
    RunFreshOpt,
    SandboxAsyncDelayOpt,
    SandboxBurst429Opt,
    SandboxDropRateOpt,
    SandboxErrorRateOpt,
    SandboxGatewayRateOpt,
    SandboxLatencyOpt,
    SandboxOpt,
    SandboxPortOpt,
    SandboxRateLimitOpt,
    SandboxSeedOpt,
    ServeHostOpt,
    ServeMappingsOpt,
    ServeMaxUploadOpt,
    ServeTokenOpt,
    ServeWorkOpt,
    SheetOpt,
    StateOpt,
    VerboseOpt,
    WatchArchiveOpt,
    WatchFailedOpt,
    WatchInboxOpt,
    WatchIntervalOpt,
    WatchLogFileOpt,
    WatchOnceOpt,
    WatchSettleOpt,
    WorkersOpt,
)
from importer.commands.signals import StopSignals
from importer.core.errors import UserError
from importer.terminal import TerminalProgress

app = typer.Typer(
    cls=Group,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Import spreadsheets of leads and opportunities into LeadSquared.",
)


@app.callback()
def main_options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Import spreadsheets of leads and opportunities into LeadSquared."""


@app.command(cls=Command)
def validate(
    input: InputArg,
    mapping: MappingOpt,
    sheet: SheetOpt = None,
    header_row: HeaderRowOpt = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="PATH",
            help="Where to write the report workbook, an .xlsx "
            "(default: beside INPUT, e.g. leads.validation.xlsx for leads.csv).",
        ),
    ] = None,
    mode: ModeOpt = "async",
    rate: RateOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Dry run: load, validate and map every row; no network. Writes a validation report."""
    from importer.commands.validate import validate_file

    setup_logging(verbose, quiet)
    with user_errors(verbose):
        check_order("validate", input, mapping)
        chosen = check_mode(mode)
        settings = build_settings(rate=rate)
        result = validate_file(
            input,
            mapping,
            sheet=sheet,
            header_row=header_row,
            report=report,
            rate=settings.rate,
            mode=chosen,
            settings=settings,
        )
        for warning in result.warnings:
            if not quiet:
                echo_err(f"warning: {warning}")
        typer.echo(result.summary_line())
        if not quiet and result.estimate is not None and result.estimate.rows:
            typer.echo(f"{result.estimate.sentence()}.")
    raise typer.Exit(result.exit_code)


@app.command(cls=Command)
def run(
    input: InputArg,
    mapping: MappingOpt,
    out: OutOpt = None,
    mode: ModeOpt = "async",
    rate: RateOpt = None,
    workers: WorkersOpt = None,
    fresh: RunFreshOpt = False,
    sandbox: SandboxOpt = False,
    sheet: SheetOpt = None,
    header_row: HeaderRowOpt = None,
    state_dir: StateOpt = None,
    poll_timeout: PollOpt = None,
    notify: NotifyOpt = None,
    notify_on: NotifyOnOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Import: send every valid row, then write the results workbook."""
    from importer.commands.run import run_import

    setup_logging(verbose, quiet)
    with user_errors(verbose):
        check_order("run", input, mapping)
        chosen = check_mode(mode)
        settings = build_settings(
            rate=rate,
            workers=workers,
            poll_timeout=poll_timeout,
            notify=notify,
            notify_on=notify_on,
        )
        if fresh and not quiet:
            echo_err(
                "lsq-import: --fresh: every row is sent again, even rows already imported "
                "from this or any other file; LeadSquared may create duplicates of them"
            )
        progress = pick_progress(quiet)
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


@app.command(cls=Command)
def watch(
    inbox: WatchInboxOpt,
    mapping: MappingOpt,
    once: WatchOnceOpt = False,
    archive: WatchArchiveOpt = None,
    failed: WatchFailedOpt = None,
    interval: WatchIntervalOpt = 30.0,
    settle: WatchSettleOpt = 5.0,
    mode: ModeOpt = "async",
    rate: RateOpt = None,
    workers: WorkersOpt = None,
    sandbox: SandboxOpt = False,
    sheet: SheetOpt = None,
    header_row: HeaderRowOpt = None,
    state_dir: StateOpt = None,
    poll_timeout: PollOpt = None,
    log_file: WatchLogFileOpt = None,
    notify: NotifyOpt = None,
    notify_on: NotifyOnOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Import every new spreadsheet dropped into INBOX, one at a time, then archive it."""
    from importer.commands.watch import watch_inbox

    setup_logging(verbose, quiet)
    with user_errors(verbose):
        if inbox.suffix.lower() in MAPPING_SUFFIXES and mapping.is_dir():
            raise UserError(
                f"{inbox.name} and {mapping.name} look swapped: the folder comes first and the "
                f"mapping after -m, as in: lsq-import watch {shlex.quote(str(mapping))} "
                f"-m {shlex.quote(str(inbox))}"
            )
        chosen = check_mode(mode)
        settings = build_settings(
            rate=rate,
            workers=workers,
            poll_timeout=poll_timeout,
            notify=notify,
            notify_on=notify_on,
        )
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


@app.command(cls=Command)
def retry(
    results: ResultsArg,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            "-m",
            metavar="MAPPING",
            help="The mapping to use (default: the one the run used, named in the Summary sheet).",
        ),
    ] = None,
    rate: RateOpt = None,
    state_dir: StateOpt = None,
    poll_timeout: PollOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Send the Failure rows again and collect the Pending ones; update the workbook."""
    from importer.commands.retry import retry_results

    setup_logging(verbose, quiet)
    with user_errors(verbose):
        settings = build_settings(rate=rate, poll_timeout=poll_timeout)
        progress = TerminalProgress("Retrying") if want_progress(quiet) else None
        with StopSignals() as signals:
            report = retry_results(
                results,
                mapping_path=mapping,
                settings=settings,
                state_dir=state_dir,
                progress=progress,
                cancel=signals.stop,
            )
        typer.echo(report.summary_line())
    raise typer.Exit(report.exit_code)


@app.command(cls=Command)
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
        with StopSignals() as signals:
            report = refresh_status(results, settings=settings, cancel=signals.stop)
        typer.echo(report.summary_line())
    raise typer.Exit(report.exit_code)


@app.command(cls=Command)
def verify(
    results: ResultsArg,
    mapping: MappingOpt,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="PATH",
            help="Where to write the reconciliation workbook (default: beside RESULTS).",
        ),
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
        with StopSignals() as signals:
            outcome = verify_results(
                results, mapping, settings=settings, report=report, cancel=signals.stop
            )
        typer.echo(outcome.summary_line())
    raise typer.Exit(outcome.exit_code)


@app.command(cls=Command)
def rebuild(
    journal: Annotated[
        Path,
        typer.Argument(
            metavar="JOURNAL",
            help="A run's journal (*.journal.sqlite, named on the results' Summary sheet).",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="PATH",
            help="Where to write the results workbook (default: where the run wrote it).",
        ),
    ] = None,
) -> None:
    """Write a run's results workbook again from its journal alone (no input, no network)."""
    from importer.commands.rebuild import rebuild_results

    with user_errors():
        typer.echo(f"Results rebuilt from the journal: {rebuild_results(journal, out)}")


@app.command(cls=Command)
def serve(
    host: ServeHostOpt = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Port to listen on.")] = 8000,
    mappings: ServeMappingsOpt = Path("mappings"),
    work: ServeWorkOpt = Path(".lsq-serve"),
    sandbox: SandboxOpt = False,
    duplicate_rule: DuplicateRuleOpt = False,
    token: ServeTokenOpt = None,
    max_upload: ServeMaxUploadOpt = 200,
    header_row: HeaderRowOpt = None,
    sheet: SheetOpt = None,
    notify: NotifyOpt = None,
    notify_on: NotifyOnOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """The page for ops: upload, check, import and follow up, in a browser."""
    from importer.core.config import read_environment
    from importer.web import WebConfig, hosts_for, serve_forever

    setup_logging(verbose, quiet=False)
    with user_errors(verbose):
        if duplicate_rule and not sandbox:
            raise UserError("--duplicate-rule is for the built-in sandbox: add --sandbox")
        token = token or read_environment().get("LSQ_UI_TOKEN") or None
        allowed = hosts_for(host, token)
        settings = build_settings(notify=notify, notify_on=notify_on)
        with sandbox_settings(
            settings, sandbox, quiet=True, duplicate_rule=duplicate_rule
        ) as effective:
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


@app.command("sandbox", cls=Command)
def sandbox_command(
    port: SandboxPortOpt = 8765,
    rate_limit: SandboxRateLimitOpt = 25,
    async_delay: SandboxAsyncDelayOpt = 1.0,
    latency: SandboxLatencyOpt = 0.0,
    error_rate: SandboxErrorRateOpt = 0.0,
    drop_rate: SandboxDropRateOpt = 0.0,
    burst_429: SandboxBurst429Opt = 0.0,
    gateway_rate: SandboxGatewayRateOpt = 0.0,
    seed: SandboxSeedOpt = None,
    duplicate_rule: DuplicateRuleOpt = False,
) -> None:
    """Run the LeadSquared simulator and print the LSQ_… lines that point lsq-import at it."""
    from importer.sandbox import SandboxConfig, run_forever

    with user_errors():
        try:
            config = SandboxConfig.from_options(
                rate_limit=rate_limit,
                async_delay=async_delay,
                latency=latency,
                error_rate=error_rate,
                drop_rate=drop_rate,
                burst_429=burst_429,
                gateway_rate=gateway_rate,
                seed=seed,
                duplicate_detection=duplicate_rule,
            )
        except ValueError as exc:  # a rate outside 0..1, a negative delay
            raise UserError(str(exc)) from None
        run_forever(config, port)


map_app = typer.Typer(
    cls=Group,
    no_args_is_help=True,
    help="Draft a mapping, or fit one to a file whose headers changed.",
)
app.add_typer(map_app, name="map")


@map_app.command("suggest", cls=Command)
def map_suggest(
    input: InputArg,
    from_mapping: Annotated[
        Path | None,
        typer.Option(
            "--from", metavar="MAPPING", help="Re-target this mapping to INPUT's headers."
        ),
    ] = None,
    event_code: Annotated[
        int | None,
        typer.Option(
            "--event-code",
            min=1,
            metavar="N",
            help="The opportunity type's code (OpportunityEventCode).",
        ),
    ] = None,
    sheet: SheetOpt = None,
    header_row: HeaderRowOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="PATH",
            help="Mapping to write (default: beside INPUT, e.g. leads.mapping.yaml for leads.csv).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the mapping at --out if it exists.")
    ] = False,
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
