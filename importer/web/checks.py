"""The dry run as the page shows it: the verdict's figures, every problem, and a preview of
the first rows as LeadSquared will receive them, one column per field."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from importer.core.config import Rate
from importer.core.errors import UserError
from importer.rules.mapping import FieldSpec, Mapping
from importer.rules.mapping_file import load_mapping
from importer.web import library
from importer.web.choices import MappingChoice
from importer.web.records import CheckRecord, CheckResult, PreviewColumn, Problem
from importer.web.words import import_seconds
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
        )
        mapping = load_mapping(mapping_copy)
    except UserError as exc:
        record.problem = plain(str(exc), input_path, record.original_name)
        work.save_check(record)
        return record
    columns, rows = preview_table(mapping, report.preview)
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
        preview_rows=rows,
        warnings=[plain(w, input_path, record.original_name) for w in report.warnings],
        seconds=import_seconds(report.valid, rate, mode, shares=mapping.share is not None),
        report=REPORT,
    )
    work.save_check(record)
    return record


def plain(message: str, stored: Path, original: str) -> str:
    """Name the file as the user knows it, not by its stored name."""
    return message.replace(stored.name, original).replace(stored.stem, Path(original).stem)


def _reason(row: int, column: str, message: str) -> str:
    """The table has Row and Column already: drop the `Row 5, Email: ` the message starts with."""
    prefix = f"Row {row}, {column}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def preview_table(
    mapping: Mapping, preview: list[tuple[int, dict[str, Any]]]
) -> tuple[list[PreviewColumn], list[list[str]]]:
    """Columns (the user's header over the Schema Name) and, per row, the values sent."""
    fields: list[tuple[PreviewColumn, str, str]] = []  # column, where in the body, key

    def add(spec: FieldSpec | None, schema: str, where: str, key: str) -> None:
        if spec is not None:
            label = spec.column if spec.column is not None else CONSTANT
            fields.append((PreviewColumn(label, schema), where, key))

    if mapping.operation == "update":
        add(mapping.opportunity_id, "ProspectOpportunityId", "top", "ProspectOpportunityId")
        add(mapping.note, "OpportunityNote", "top", "OpportunityNote")
    else:
        for name, spec in mapping.lead.items():
            add(spec, name, "lead", name)
        add(mapping.note, "OpportunityNote", "opportunity", "OpportunityNote")
        add(mapping.datetime, "OpportunityDateTime", "opportunity", "OpportunityDateTime")
    for name, spec in mapping.opportunity.items():
        add(spec, name, "fields", name)
    rows = []
    for row_number, body in preview:
        places = _places(body)
        rows.append([str(row_number)] + [places[where].get(key, "") for _, where, key in fields])
    return [column for column, _, _ in fields], rows


def _places(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The body's values by where they sit: lead details, the opportunity, its fields, the top."""
    opportunity = body.get("Opportunity") or {}
    fields = opportunity.get("Fields") if opportunity else body.get("Fields")
    return {
        "lead": {d["Attribute"]: str(d["Value"]) for d in body.get("LeadDetails", [])},
        "opportunity": {k: str(v) for k, v in opportunity.items() if not isinstance(v, list)},
        "fields": {f["SchemaName"]: str(f["Value"]) for f in fields or []},
        "top": {k: str(v) for k, v in body.items() if not isinstance(v, list | dict)},
    }
