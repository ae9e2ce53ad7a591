"""The dry run as the page shows it: the verdict's figures, every problem, and a preview of
the first rows as LeadSquared will receive them, one column per field."""

from __future__ import annotations

import shutil
from pathlib import Path

from importer.core.config import Rate
from importer.core.errors import UserError
from importer.web import library
from importer.web.choices import MappingChoice
from importer.web.records import CheckRecord, CheckResult, PreviewColumn, Problem
from importer.web.words import page_words
from importer.web.workdir import WorkDir

REPORT = "report.xlsx"
CONSTANT = "(same for every row)"


def run_check(
    work: WorkDir, record: CheckRecord, choice: MappingChoice, *, rate: Rate, mode: str
) -> CheckRecord:
    """Copy the mapping beside the check (what is checked is what gets imported), validate,
    and keep the outcome in the record; a mistake (missing column, bad file) is kept too."""
    folder = work.check_dir(record.id)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.y*ml"):
        old.unlink()
    mapping_copy = folder / choice.name
    shutil.copyfile(choice.path, mapping_copy)
    record.mapping_name, record.mapping_file = choice.name, choice.name
    record.mapping_key = choice.key
    record.result, record.problem = None, None
    input_path = work.uploads / record.input
    try:
        report = library.check_file(
            input_path,
            mapping_copy,
            sheet=record.sheet,
            header_row=record.header_row,
            report=folder / REPORT,
            shown_name=record.original_name,
            fixed_cells=record.fixes,
            rate=rate,
            mode=mode,
        )
    except UserError as exc:
        record.problem = plain(str(exc), input_path, record.original_name)
        work.save_check(record)
        return record
    columns = [PreviewColumn(header or CONSTANT, schema) for header, schema in report.preview_heads]
    record.result = CheckResult(
        rows_read=report.rows_read,
        valid=report.valid,
        invalid=report.invalid,
        skipped=report.skipped,
        problems=[
            Problem(e.row_number, e.column, e.value, _reason(e.row_number, e.column, e.message))
            for e in report.errors
        ],
        preview_columns=columns,
        preview_rows=report.preview_rows,
        warnings=[plain(w, input_path, record.original_name) for w in report.warnings],
        # one estimate for one file: the report's Summary says the same
        seconds=report.estimate.seconds if report.estimate else 0.0,
        header_row=report.header_row,
        report=REPORT,
    )
    work.save_check(record)
    return record


def plain(message: str, stored: Path, original: str) -> str:
    """Name the file as the user knows it, not by its stored name, and the CLI's flags as
    the page's own choices."""
    named = message.replace(stored.name, original).replace(stored.stem, Path(original).stem)
    return page_words(named)


def _reason(row: int, column: str, message: str) -> str:
    """The table has Row and Column already: drop the `Row 5, Email: ` the message starts with."""
    prefix = f"Row {row}, {column}: "
    return message[len(prefix) :] if message.startswith(prefix) else message
