"""Load → validate → map, as one stream of chunks shared by `validate` and `run`."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from importer.core.errors import InputFileError, MappingError, MissingColumns
from importer.core.outcomes import RowError
from importer.core.text import cell_text
from importer.io.tables import Table, open_table
from importer.io.tables.peek import peek_sheets
from importer.io.workbooks.reader import Layout, ResultRow
from importer.rules.checks.payload import build_payloads
from importer.rules.checks.validator import ValidatedChunk, Validator
from importer.rules.mapping.columns import (
    better_layout,
    layout_advice,
    missing_columns,
    missing_message,
    resolve_columns,
)
from importer.rules.mapping.mapping import Mapping
from importer.rules.mapping.mapping_file import load_mapping

CHUNK_ROWS = 50_000  # pandera's cost per chunk fades by here; memory stays a few tens of MB
NO_DATA_ROWS = "the file has headers but no data rows; there is nothing to import"


@dataclass
class Source:
    """An input file and its mapping, opened and checked against each other."""

    input_path: Path
    mapping_path: Path
    table: Table
    mapping: Mapping
    columns: dict[str, str]
    input_hash: Future[str] = field(repr=False)  # see input_sha256
    mapping_sha256: str

    @property
    def input_sha256(self) -> str:
        """The input's SHA-256, hashed on a thread of its own while the rows are read."""
        return self.input_hash.result()

    def chunks(self) -> Iterator[tuple[pd.DataFrame, ValidatedChunk]]:
        """Every chunk with its validation; a fresh validator each pass (unique is file-wide)."""
        validator = Validator(self.mapping, self.columns)
        for frame in self.table.chunks():
            yield frame, validator.validate(frame, self.table.cell_problems)

    def payloads(self) -> Iterator[tuple[int, dict[str, Any], dict[str, str]]]:
        """(RowNumber, body, target values) of every valid row, in file order."""
        for _frame, checked in self.chunks():
            values = checked.values
            records = row_values(values)
            for row_number, body in build_payloads(checked, self.mapping):
                yield row_number, body, records.get(row_number, {})


@dataclass
class Tally:
    """What one validation pass saw."""

    rows_read: int = 0
    valid: int = 0
    invalid: int = 0
    skipped: int = 0
    total_rows: int = 0  # trailing totals rows skipped, for the Summary
    errors: list[RowError] = field(default_factory=list)
    invalid_rows: set[int] = field(default_factory=set)
    row_numbers: list[int] = field(default_factory=list)  # every non-blank row, in file order


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:  # file_digest reads into one buffer, again and again
        return hashlib.file_digest(handle, "sha256").hexdigest()


def open_source(
    input_path: str | Path,
    mapping_path: str | Path,
    sheet: str | None = None,
    *,
    header_row: int | None = None,
) -> Source:
    """Open both files and match the mapping's columns, failing before any row is read."""
    mapping_file = Path(mapping_path)
    if not mapping_file.is_file():
        raise MappingError(f"Mapping file {mapping_file} does not exist")
    mapping = load_mapping(mapping_file)
    input_file = Path(input_path)
    if not input_file.exists():
        raise InputFileError(f"Input file {input_file} does not exist")
    table = open_table(input_file, sheet=sheet, chunk_rows=CHUNK_ROWS, header_row=header_row)
    try:
        columns = resolve_columns(mapping, table.headers, table.duplicate_headers)
    except MissingColumns as missing:
        raise _with_layout_advice(missing, mapping, table) from None
    return Source(
        input_path=input_file,
        mapping_path=mapping_file,
        table=table,
        mapping=mapping,
        columns=columns,
        input_hash=_hash_aside(input_file),
        mapping_sha256=file_sha256(mapping_file),
    )


def _hash_aside(path: Path) -> Future[str]:
    """file_sha256 on another thread: hashlib lets go of the GIL, so a second core does it."""
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lsq-hash")
    try:
        return worker.submit(file_sha256, path)
    finally:
        worker.shutdown(wait=False)  # the thread ends when the hash is done


def _with_layout_advice(missing: MissingColumns, mapping: Mapping, table: Table) -> MissingColumns:
    """Where the mapping's headers are when another sheet or row holds them; else, for
    several renamed columns, the command that fits the mapping to the new headers."""
    wanted = [spec.column for spec in mapping.targets().values() if spec.column is not None]
    better = better_layout(wanted, table.sheet, table.header_row, peek_sheets(table.path))
    if better is None:
        if len(missing.columns) < 2:
            return missing
        fit = (
            f"lsq-import map suggest {shlex.quote(table.path.name)} --from {_mapping_name(mapping)}"
        )
        return MissingColumns(
            f"{missing}; to fit the mapping to these headers: {fit}", columns=missing.columns
        )
    advice = layout_advice(table.sheet, *better)
    gone = missing_columns(mapping, table.headers)
    message = missing_message(mapping, gone, [], table.headers, elsewhere=advice)
    return MissingColumns(message, columns=missing.columns)


def _mapping_name(mapping: Mapping) -> str:
    return shlex.quote(str(mapping.source)) if mapping.source else "MAPPING"


def tally(source: Source, preview_limit: int = 0) -> tuple[Tally, list[tuple[int, dict[str, Any]]]]:
    """One full validation pass: counts, every error, and the first payloads for a preview."""
    result = Tally()
    preview: list[tuple[int, dict[str, Any]]] = []
    for frame, checked in source.chunks():
        result.rows_read += len(frame)
        result.row_numbers.extend(frame.index.tolist())
        result.valid += len(checked.values)
        result.invalid += len(checked.invalid_rows)
        result.invalid_rows.update(checked.invalid_rows)
        result.errors.extend(checked.errors)
        wanted = preview_limit - len(preview)
        if wanted > 0 and len(checked.values):
            preview.extend(build_payloads(checked.values.head(wanted), source.mapping))
    result.skipped = source.table.blank_rows
    result.total_rows = source.table.total_rows
    if not result.rows_read:
        source.table.warn(NO_DATA_ROWS)
    return result, preview


def frame_from_rows(
    layout: Layout, rows: list[ResultRow], mapping: Mapping
) -> tuple[pd.DataFrame, dict[str, str]]:
    """These results rows' input cells as a loader frame (text), and the mapping's columns.

    Built from the input columns only: an input header such as `Status` (shown as
    `Status (input)`) would otherwise clash with the results' own `Status` column.
    """
    headers = layout.input_headers
    columns = resolve_columns(mapping, headers)
    position = {headers[i]: layout.inputs[i] for i in range(len(headers))}
    data = {
        label: [cell_text(row.cells[position[label]] or "") for row in rows]
        for label in dict.fromkeys(columns.values())
    }
    index = pd.Index([row.outcome.row_number for row in rows], name="RowNumber", dtype="int64")
    return pd.DataFrame(data, index=index, dtype=object), columns


def row_values(values: pd.DataFrame) -> dict[int, dict[str, str]]:
    """Each valid row's sent values by target, keyed by RowNumber."""
    return {
        int(str(row_number)): {str(key): str(value) for key, value in row.items()}
        for row_number, row in values.to_dict("index").items()
    }
