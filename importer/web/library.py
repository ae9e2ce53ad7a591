"""The page's one door into the importer's Python API.

Three things the page uses are being added to the library by others while it is built:
drafting a mapping from a file's headers (`importer.suggest_mapping`), stopping a run
(`cancel=`), and choosing the header row (`header_row=`). Whether this library has them is
decided here, once, so the rest of the package calls plain functions. Every run gets the
page's stoppable transport, so Cancel works whether or not the library has `cancel=`.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from importer.commands.followup import FollowupReport, refresh_status, retry_results
from importer.commands.run import ImportReport, run_import
from importer.commands.validate import ValidationReport, validate_file
from importer.commands.verify import VerifyReport, verify_results
from importer.core.config import Settings
from importer.core.conventions import WORKBOOK_SUFFIXES
from importer.core.errors import UserError
from importer.web.stopping import RunStop, StoppableTransport

Mode = Literal["async", "sync"]

DRAFT_MISSING = (
    "Drafting a mapping from the file's headers is not available in this version of "
    "lsq-import; choose a mapping file instead"
)


def accepts(function: Callable[..., Any], name: str) -> bool:
    return name in inspect.signature(function).parameters


# ---------------------------------------------------------------- files and checks


def sheet_names(path: Path) -> list[str]:
    """The visible worksheets of a workbook, in order; [] for CSV or a file we cannot open
    (the check itself then says what is wrong with it)."""
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        return []
    try:
        with CalamineWorkbook.from_path(str(path)) as book:
            meta = book.sheets_metadata
    except Exception:  # noqa: BLE001 - calamine's errors vary; the check reports the file
        return []
    sheets = [m for m in meta if m.typ == SheetTypeEnum.WorkSheet] or list(meta)
    return [m.name for m in sheets if m.visible == SheetVisibleEnum.Visible]


def check_file(
    input_path: Path,
    mapping_path: Path,
    *,
    sheet: str | None,
    header_row: int | None,
    report: Path,
) -> ValidationReport:
    """The dry run, writing the validation report workbook."""
    extra = _header_row(validate_file, header_row)
    return validate_file(input_path, mapping_path, sheet=sheet, report=report, **extra)


def _header_row(function: Callable[..., Any], header_row: int | None) -> dict[str, Any]:
    if header_row is None:
        return {}
    if not accepts(function, "header_row"):
        raise UserError(
            "Choosing the header row needs a newer lsq-import; leave the header row empty"
        )
    return {"header_row": header_row}


# ---------------------------------------------------------------- drafting a mapping


@dataclass
class DraftMatch:
    column: str
    target: str
    confidence: float
    reason: str


@dataclass
class Draft:
    """A drafted mapping: YAML to edit, what was matched and what is left to place."""

    yaml_text: str
    matches: list[DraftMatch] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)


def draft_available() -> bool:
    return _suggest_function() is not None


def draft_mapping(
    input_path: Path,
    *,
    sheet: str | None,
    header_row: int | None,
    event_code: int | None = None,
) -> Draft:
    """Draft a mapping from the file's headers and values (the `map suggest` library call)."""
    suggest = _suggest_function()
    if suggest is None:
        raise UserError(DRAFT_MISSING)
    found = suggest(input_path, event_code=event_code, sheet=sheet, header_row=header_row)
    return Draft(
        yaml_text=str(found.yaml_text),
        matches=[
            DraftMatch(
                column=str(getattr(m, "column", "")),
                target=str(getattr(m, "target", "")),
                confidence=float(getattr(m, "confidence", 0.0) or 0.0),
                reason=str(getattr(m, "reason", "")),
            )
            for m in getattr(found, "matches", [])
        ],
        todo=[str(item) for item in getattr(found, "todo", [])],
    )


def _suggest_function() -> Callable[..., Any] | None:
    package = importlib.import_module("importer")
    try:
        function: Callable[..., Any] = package.suggest_mapping
    except AttributeError:
        return None
    return function


# ---------------------------------------------------------------- runs


def _stop_when(function: Callable[..., Any], stop: RunStop) -> dict[str, Any]:
    """Keyword arguments that let `stop` end this run cleanly (see `stopping`): the page's
    gated transport, and the library's own `cancel=` where it has one."""
    extra: dict[str, Any] = {"transport": StoppableTransport(stop)}
    if accepts(function, "cancel"):
        extra["cancel"] = stop.library
    return extra


def import_file(
    input_path: Path,
    mapping_path: Path,
    *,
    settings: Settings,
    mode: Mode,
    out: Path,
    sheet: str | None,
    header_row: int | None,
    state_dir: Path,
    progress: Any,
    stop: RunStop,
) -> ImportReport:
    """`run_import`: the same arguments every time, so a second call resumes the first."""
    extra = _stop_when(run_import, stop)
    extra.update(_header_row(run_import, header_row))
    return run_import(
        input_path,
        mapping_path,
        settings=settings,
        mode=mode,
        out=out,
        sheet=sheet,
        state_dir=state_dir,
        progress=progress,
        **extra,
    )


def retry_failed(
    results: Path,
    mapping_path: Path,
    *,
    settings: Settings,
    state_dir: Path,
    progress: Any,
    stop: RunStop,
) -> FollowupReport:
    """`retry_results`: Failure rows sent again, Pending ones collected."""
    return retry_results(
        results,
        mapping_path=mapping_path,
        settings=settings,
        state_dir=state_dir,
        progress=progress,
        **_stop_when(retry_results, stop),
    )


def check_pending(results: Path, *, settings: Settings, stop: RunStop) -> FollowupReport:
    """`refresh_status`: ask LeadSquared again about the Pending rows."""
    return refresh_status(results, settings=settings, **_stop_when(refresh_status, stop))


def verify(
    results: Path,
    mapping_path: Path,
    *,
    settings: Settings,
    report: Path,
    stop: RunStop,
) -> VerifyReport:
    """`verify_results`: read the opportunities back and write the reconciliation workbook."""
    return verify_results(
        results,
        mapping_path,
        settings=settings,
        report=report,
        **_stop_when(verify_results, stop),
    )
