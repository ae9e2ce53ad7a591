"""`validate`: the dry run. Load, validate and map every row; send nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from importer.commands.source import open_source, tally
from importer.core.conventions import VALIDATION_SUFFIX
from importer.core.outcomes import RowError
from importer.io.workbooks.report import write_validation_report
from importer.io.workbooks.summary import Summary

PREVIEW_ROWS = 50


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

    @property
    def exit_code(self) -> int:
        return 0 if self.invalid == 0 else 1

    def summary_line(self) -> str:
        where = f" Report: {self.report_path}" if self.report_path else ""
        verdict = (
            "Every row is valid and ready to import."
            if self.invalid == 0
            else f"Fix the {self.invalid} invalid row(s) listed in the report's Errors sheet, "
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
) -> ValidationReport:
    """Validate a spreadsheet against a mapping and (by default) write the report workbook."""
    started = datetime.now()
    source = open_source(input_path, mapping_path, sheet, header_row=header_row)
    seen, preview = tally(source, PREVIEW_ROWS)
    report_path = None
    if write_report:
        report_path = Path(report) if report else default_report_path(source.input_path)
        summary = Summary(
            counts={"Rows read": seen.rows_read, "Valid": seen.valid, "Invalid": seen.invalid},
            input_name=source.input_path.name,
            input_sha256=source.input_sha256,
            mapping=str(source.mapping_path),
            mode="validate",
            started=started,
            finished=datetime.now(),
            extra={
                "Blank rows skipped": seen.skipped,
                "Sheet": source.table.sheet or "",
                **{f"Warning {i}": w for i, w in enumerate(source.table.warnings, 1)},
            },
        )
        write_validation_report(report_path, errors=seen.errors, summary=summary, preview=preview)
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
        warnings=list(source.table.warnings),
    )
