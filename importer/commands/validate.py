"""`validate`: the dry run. Load, validate and map every row; send nothing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import takewhile
from pathlib import Path
from typing import Any

from importer.commands.source import Source, Tally, open_source, tally
from importer.core.config import Mode, Rate, Settings
from importer.core.constants import DEFAULT_RATE
from importer.core.conventions import PREVIEW_ROWS, ROWS_SHEET_ALL_UP_TO, VALIDATION_SUFFIX
from importer.core.errors import StateStoreError
from importer.core.estimate import ImportEstimate, estimate_import
from importer.core.outcomes import RowError
from importer.io.tables.table import TypedCell
from importer.io.workbooks.report import (
    InputRows,
    PreviewTable,
    check_report_path,
    write_validation_report,
)
from importer.io.workbooks.summary import Summary, fixed_lines
from importer.rules.checks.preview import preview_heads, preview_table
from importer.rules.mapping.mapping_file import load_mapping
from importer.send.budget import DailyUsage, daily_usage


@dataclass
class ValidationReport:
    """What a dry run found; the CLI prints it, a scheduler reads it."""

    input_path: Path
    mapping_path: Path
    report_path: Path | None
    rows_read: int
    valid: int
    invalid: int
    skipped: int
    errors: list[RowError]
    preview: list[tuple[int, dict[str, Any]]]
    warnings: list[str] = field(default_factory=list)
    estimate: ImportEstimate | None = None  # how long importing the valid rows takes
    daily: DailyUsage | None = None  # today's calls, when LSQ_DAILY_LIMIT caps them
    # The one preview table (the report's Preview sheet, the page's preview): its rows
    # (RowNumber first), and above each later column (the user's header or None, the field).
    preview_rows: list[list[str]] = field(default_factory=list)
    preview_heads: list[tuple[str | None, str]] = field(default_factory=list)
    shares: bool = False  # the mapping shares each created opportunity (one call more)
    header_row: int = 1  # the row the headers were read from (given, or detected)

    @property
    def exit_code(self) -> int:
        return 0 if self.invalid == 0 else 1

    def summary_line(self) -> str:
        where = f" Report: {self.report_path}" if self.report_path else ""
        verdict = (
            "There is nothing to import."
            if self.rows_read == 0
            else "Every row is valid and ready to import."
            if self.invalid == 0
            else f"Fix the {self.invalid} invalid row(s) marked in the report's Rows sheet, "
            "or import now and they will be skipped."
        )
        return (
            f"{self.input_path.name}: {self.rows_read} rows read, {self.valid} valid, "
            f"{self.invalid} invalid, {self.skipped} blank skipped. {verdict}{where}"
        )


def default_report_path(input_path: Path) -> Path:
    return input_path.with_name(f"{input_path.stem}{VALIDATION_SUFFIX}")


def validate_file(
    input_path: str | Path,
    mapping_path: str | Path,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    report: str | Path | None = None,
    write_report: bool = True,
    rate: Rate | None = None,
    mode: Mode | str = Mode.ASYNC,
    settings: Settings | None = None,
    shown_name: str | None = None,
    fixed: Sequence[str] = (),
) -> ValidationReport:
    """Validate a spreadsheet against a mapping and (by default) write the report workbook.

    `rate` and `mode` are the import's to come: the report says how long it will take.
    With `settings` whose `daily_limit` is set, it also says what share of today's
    remaining calls the import needs (read from the state store; nothing is sent).
    `shown_name` is the file's name as its user knows it (the page stores uploads
    renamed); `fixed` says, a sentence each, which cells were fixed before this check.
    """
    started = datetime.now()
    chosen = Mode.parse(str(mode))
    if write_report and report:
        check_report_path(Path(report))
    source = open_source(input_path, mapping_path, sheet, header_row=header_row)
    seen, preview = tally(source, PREVIEW_ROWS)
    estimate = estimate_import(
        seen.valid,
        rate or Rate.parse(DEFAULT_RATE),
        chosen,
        shares=source.mapping.share is not None,
    )
    warnings = list(source.table.warnings)
    daily = _daily(settings, warnings)
    if daily is not None and estimate.rows:  # said with the time, as `run` says it
        estimate = replace(estimate, daily=daily.sentence(estimate.total_calls))
    table = preview_table(source.mapping, source.columns, preview)
    report_path = None
    if write_report:
        report_path = Path(report) if report else default_report_path(source.input_path)
        summary = _summary(source, seen, started, estimate)
        summary.input_name = shown_name or summary.input_name
        summary.extra.update(fixed_lines(fixed))
        _write_report(report_path, source, seen, table, summary)
    return ValidationReport(
        input_path=source.input_path,
        mapping_path=source.mapping_path,
        report_path=report_path,
        rows_read=seen.rows_read,
        valid=seen.valid,
        invalid=seen.invalid,
        skipped=seen.skipped,
        errors=seen.errors,
        preview=preview,
        warnings=warnings,
        estimate=estimate,
        daily=daily,
        preview_rows=[[str(cell) for cell in row] for row in table.rows],
        preview_heads=preview_heads(source.mapping, source.columns),
        shares=source.mapping.share is not None,
        header_row=source.table.header_row,
    )


def _daily(settings: Settings | None, warnings: list[str]) -> DailyUsage | None:
    """Today's calls when LSQ_DAILY_LIMIT caps them; a store that cannot say is a warning."""
    if settings is None or not settings.daily_limit:
        return None
    try:
        return daily_usage(settings)
    except StateStoreError as exc:
        warnings.append(f"today's calls could not be counted: {exc}")
        return None


def _summary(
    source: Source,
    seen: Tally,
    started: datetime,
    estimate: ImportEstimate,
) -> Summary:
    return Summary(
        counts={"Rows read": seen.rows_read, "Valid": seen.valid, "Invalid": seen.invalid},
        input_name=source.input_path.name,
        input_sha256=source.input_sha256,
        mapping=str(source.mapping_path),
        mode="validate",
        started=started,
        finished=datetime.now(),
        extra={
            "Blank rows skipped": seen.skipped,
            "Totals rows skipped": seen.total_rows,
            "Sheet": source.table.sheet or "",
            "Import time": estimate.sentence() if estimate.rows else "nothing to import",
            **{f"Warning {i}": w for i, w in enumerate(source.table.warnings, 1)},
        },
    )


def _write_report(
    path: Path, source: Source, seen: Tally, preview: PreviewTable, summary: Summary
) -> None:
    """The report workbook: a second pass over the file writes its rows as they are."""
    table = source.table
    rows: Iterable[tuple[int, Sequence[TypedCell]]] = table.typed_rows()
    if seen.rows_read > ROWS_SHEET_ALL_UP_TO:
        bad = seen.invalid_rows
        last = max(bad, default=0)  # rows come in file order: none is read past the last bad one
        rows = ((n, cells) for n, cells in takewhile(lambda row: row[0] <= last, rows) if n in bad)
        if not bad:
            rows = iter(())  # nothing to show: the file is not read again
        summary.extra["Rows sheet"] = (
            f"the {seen.invalid:,} rows that need fixing (the file has more than "
            f"{ROWS_SHEET_ALL_UP_TO:,} rows)"
        )
    write_validation_report(
        path,
        errors=seen.errors,
        summary=summary,
        preview=preview,
        inputs=InputRows(table.original_headers, table.headers, rows),
    )


def check_mapping(path: str | Path) -> None:
    """Raise `MappingError` (naming the file, the key and the line) when the mapping at
    `path` cannot be used; a draft saved from the page is checked with this."""
    load_mapping(Path(path))
