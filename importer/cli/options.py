"""The options and arguments several commands share, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ModeOpt = Annotated[
    str,
    typer.Option(
        "--mode",
        metavar="async|sync",
        help="async: LeadSquared queues each row, then its result is collected (2 calls a row); "
        "sync: one call a row, the result in the reply.",
    ),
]
MappingOpt = Annotated[
    Path,
    typer.Option(
        "--mapping",
        "-m",
        metavar="MAPPING",
        help="The mapping file (YAML): which column goes to which LeadSquared field.",
    ),
]
SheetOpt = Annotated[
    str | None,
    typer.Option("--sheet", metavar="NAME", help="Sheet to read (default: the first visible one)."),
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose",
        help="Log every API call (keys hidden) and the full detail of an unexpected error.",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="Print only the summary line.")]
StateOpt = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        metavar="DIR",
        help="Folder for the run's journal and logs (default: .lsq-state beside the results).",
    ),
]
RateOpt = Annotated[
    str | None,
    typer.Option(
        "--rate",
        metavar="RATE",
        help="Your LeadSquared plan's limit, e.g. 25/5s (25 calls per 5 s) or a plan name "
        "(Lite, Pro, Super, Basic, Standard, Enterprise). Default: LSQ_RATE, else 25/5s.",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        max=64,
        metavar="N",
        help="Calls under way at once (default 8); the rate limit is kept whatever the number.",
    ),
]
SandboxOpt = Annotated[
    bool,
    typer.Option(
        "--sandbox", help="Import into the built-in LeadSquared simulator: nothing leaves the PC."
    ),
]
DuplicateRuleOpt = Annotated[
    bool,
    typer.Option(
        "--duplicate-rule",
        help="Give the sandbox a duplicate rule: a capture for a lead that already has an "
        "opportunity of that type with the same name (mx_Custom_1) is reported as a duplicate "
        "instead of creating another. Off by default, as in a new LeadSquared account.",
    ),
]
HeaderRowOpt = Annotated[
    int | None,
    typer.Option(
        "--header-row",
        min=1,
        metavar="N",
        help="The row that holds the headers (default: found by looking, row 1 when in doubt).",
    ),
]
InputArg = Annotated[
    Path, typer.Argument(metavar="INPUT", help="The spreadsheet: a CSV, XLSX, XLS or ODS file.")
]
ResultsArg = Annotated[
    Path,
    typer.Argument(metavar="RESULTS", help="A results workbook written by `lsq-import run`."),
]
PollOpt = Annotated[
    float | None,
    typer.Option(
        "--poll-timeout",
        metavar="SECONDS",
        help="How long to wait for LeadSquared to finish queued rows before leaving them Pending.",
    ),
]
NotifyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--notify",
        metavar="TARGET",
        help="Tell someone when a file needs a person: https://… (a Slack, Teams or Google Chat "
        "incoming webhook, or any URL taking a JSON POST) or mailto:ops@example.com (through "
        "LSQ_SMTP_URL). Repeat for more targets; replaces LSQ_NOTIFY.",
    ),
]
NotifyOnOpt = Annotated[
    str | None,
    typer.Option(
        "--notify-on",
        metavar="problems|always",
        help="problems (default): rows not Success, a file sent to failed, a run that could not "
        "run; always: after every file too.",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out", metavar="PATH", help="Where to write the results workbook (default: beside INPUT)."
    ),
]

# ---- options of one command each, declared here so the commands read as calls
RunFreshOpt = Annotated[
    bool,
    typer.Option(
        "--fresh",
        help="Start over: forget this file's earlier run and what the account already has "
        "(rows are sent again).",
    ),
]
WatchInboxOpt = Annotated[
    Path,
    typer.Argument(metavar="INBOX", help="The folder the nightly files are dropped into."),
]
WatchOnceOpt = Annotated[
    bool, typer.Option("--once", help="Import what is there, then exit (for cron).")
]
WatchArchiveOpt = Annotated[
    Path | None,
    typer.Option(
        "--archive", metavar="DIR", help="Where files whose rows all succeeded are moved."
    ),
]
WatchFailedOpt = Annotated[
    Path | None,
    typer.Option(
        "--failed", metavar="DIR", help="Where files with rows that did not succeed are moved."
    ),
]
WatchIntervalOpt = Annotated[
    float,
    typer.Option("--interval", metavar="SECONDS", help="How often to look for new files."),
]
WatchSettleOpt = Annotated[
    float,
    typer.Option(
        "--settle",
        metavar="SECONDS",
        help="A file must stay unchanged this long before it is read (still being copied).",
    ),
]
WatchLogFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--log", metavar="FILE", help="One JSON line per file (default: in the state folder)."
    ),
]
ServeHostOpt = Annotated[
    str,
    typer.Option(
        "--host",
        metavar="HOST",
        help="Address to listen on; anything but 127.0.0.1 needs a --token.",
    ),
]
ServeMappingsOpt = Annotated[
    Path,
    typer.Option("--mappings", metavar="DIR", help="Folder of mapping files the page offers."),
]
ServeWorkOpt = Annotated[
    Path,
    typer.Option("--work", metavar="DIR", help="Folder for uploads, results and run state."),
]
ServeTokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token", metavar="TOKEN", help="Token the page asks for once (or LSQ_UI_TOKEN)."
    ),
]
ServeMaxUploadOpt = Annotated[
    int,
    typer.Option("--max-upload", min=1, metavar="MB", help="Largest upload, in megabytes."),
]
SandboxPortOpt = Annotated[
    int, typer.Option("--port", metavar="PORT", help="Port to listen on, on 127.0.0.1.")
]
SandboxRateLimitOpt = Annotated[
    int,
    typer.Option(
        "--rate-limit", metavar="N", help="Calls allowed per 5-second window before a 429."
    ),
]
SandboxAsyncDelayOpt = Annotated[
    float,
    typer.Option(
        "--async-delay", metavar="SECONDS", help="How long a queued capture waits in the queue."
    ),
]
SandboxLatencyOpt = Annotated[
    float,
    typer.Option("--latency", metavar="SECONDS", help="Delay added to every answer."),
]
SandboxErrorRateOpt = Annotated[
    float,
    typer.Option(
        "--error-rate",
        metavar="FRACTION",
        help="Share of calls answered 500 before any work is done (0 to 1).",
    ),
]
SandboxDropRateOpt = Annotated[
    float,
    typer.Option(
        "--drop-rate",
        metavar="FRACTION",
        help="Share of calls processed whose reply is lost (0 to 1).",
    ),
]
SandboxBurst429Opt = Annotated[
    float,
    typer.Option("--burst-429", metavar="FRACTION", help="Share of calls answered 429 (0 to 1)."),
]
SandboxGatewayRateOpt = Annotated[
    float,
    typer.Option(
        "--gateway-rate",
        metavar="FRACTION",
        help="Share of calls processed, then answered 504 with a gateway's HTML page (0 to 1).",
    ),
]
SandboxSeedOpt = Annotated[
    int | None,
    typer.Option("--seed", metavar="N", help="Make the faults above repeat run after run."),
]
