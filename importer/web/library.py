"""The page's one door into the importer's Python API: checks, drafts, runs, follow-ups.

Every run gets the task's stop event as the library's `cancel`: Cancel stops imports,
retries, status checks and verifications alike, and the library lets the requests already
on their way answer and be recorded first, so a resumed run sends nothing twice.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from importer.commands import fixes, followup, history, matching, retry
from importer.commands.followup import FollowupReport, failures_of
from importer.commands.history import HistoryLine
from importer.commands.retry import retry_results
from importer.commands.run import ImportReport, run_import
from importer.commands.status import refresh_status
from importer.commands.suggest import suggest_mapping
from importer.commands.validate import ValidationReport, validate_file
from importer.commands.verify import VerifyReport, verify_results
from importer.core.config import Mode, Rate, Settings
from importer.core.conventions import WORKBOOK_SUFFIXES
from importer.core.progress import Progress

T = TypeVar("T")

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
    shown_name: str,
    fixed_cells: list[dict[str, Any]],
    rate: Rate,
    mode: str,
) -> ValidationReport:
    """The dry run, writing the validation report workbook (naming the cells fixed)."""
    return validate_file(
        input_path,
        mapping_path,
        sheet=sheet,
        header_row=header_row,
        report=report,
        shown_name=shown_name,
        fixed=fixes.fix_sentences(fixed_cells),
        rate=rate,
        mode=mode,
    )


# ---------------------------------------------------------------- drafting a mapping


@dataclass
class DraftMatch:
    column: str
    target: str  # "" for a column left for the user
    confidence: float
    reason: str


@dataclass
class Draft:
    """A drafted mapping: YAML to edit, what was matched and what is left to place."""

    yaml_text: str
    matches: list[DraftMatch] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def draft_mapping(
    input_path: Path,
    *,
    sheet: str | None,
    header_row: int | None,
    event_code: int | None = None,
    shown_name: str = "",
    mapping_name: str | None = None,
) -> Draft:
    """Draft a mapping from the file's headers and values (the `map suggest` library call).

    `shown_name` is the file's name as the user knows it (the draft's comments name it);
    `mapping_name` what the mapping will be saved as.
    """
    found = suggest_mapping(
        input_path, event_code=event_code, sheet=sheet, header_row=header_row, out=mapping_name
    )
    stored = input_path.name
    return Draft(
        yaml_text=found.yaml_text.replace(stored, shown_name or stored),
        matches=[
            DraftMatch(m.column, m.target or "", m.confidence, m.reason) for m in found.matches
        ],
        todo=list(found.todo),
        notes=[note.replace(stored, shown_name or stored) for note in found.notes],
    )


# ---------------------------------------------------------------- what watch did


def nightly_files(settings: Settings) -> list[HistoryLine]:
    """The newest files `watch` imported into this account, from any machine (with
    LSQ_STATE_URL) or this one; none when the account has no keys yet."""
    if not settings.access_key:
        return []
    return history.recent_files(settings)


# ---------------------------------------------------------------- fixing cells in place

CellFix = fixes.CellFix


def apply_fixes(
    source: Path, target: Path, edits: list[CellFix], *, sheet: str | None, header_row: int
) -> Path:
    """A copy of the file with the page's edits, in its own format."""
    return fixes.apply_fixes(source, target, edits, sheet=sheet, header_row=header_row)


# ---------------------------------------------------------------- matching columns

Matching = matching.Matching
ColumnChoice = matching.ColumnChoice
MatchingRefused = matching.MatchingRefused
FIELD_TYPES = matching.TYPES


def field_choices() -> list[tuple[str, str]]:
    return matching.field_choices()


def propose_matching(
    input_path: Path, *, sheet: str | None, header_row: int | None, event_code: int | None
) -> Matching:
    """The file's columns, each preselected from `map suggest`, with samples and sureness."""
    return matching.propose(input_path, sheet=sheet, header_row=header_row, event_code=event_code)


def matching_of_mapping(mapping_path: Path, input_path: Path, record: object) -> Matching:
    """An existing mapping on the matching screen (to edit it), re-targeted to the file."""
    return matching.from_mapping(
        mapping_path,
        input_path,
        sheet=getattr(record, "sheet", None),
        header_row=getattr(record, "header_row", None),
    )


def save_matching(chosen: Matching, folder: Path) -> Path:
    """`<name>.yaml` in `folder`; `MatchingRefused` names each wrong input."""
    return matching.save_matching(chosen, folder)


# ---------------------------------------------------------------- runs


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
    progress: Progress,
    stop: threading.Event,
    shown_name: str | None = None,
    fixed_cells: list[dict[str, Any]] | None = None,
) -> ImportReport:
    """`run_import`: the same arguments every time, so a second call resumes the first."""
    return run_import(
        input_path,
        mapping_path,
        settings=settings,
        mode=mode,
        out=out,
        sheet=sheet,
        header_row=header_row,
        state_dir=state_dir,
        progress=progress,
        cancel=stop,
        shown_name=shown_name,
        fixed=fixes.fix_sentences(fixed_cells or []),
    )


def retry_failed(
    results: Path,
    mapping_path: Path,
    *,
    settings: Settings,
    state_dir: Path,
    progress: Progress,
    stop: threading.Event,
) -> FollowupReport:
    """`retry_results`: Failure rows sent again, Pending ones collected."""
    return retry_results(
        results,
        mapping_path=mapping_path,
        settings=settings,
        state_dir=state_dir,
        progress=progress,
        cancel=stop,
    )


def check_pending(results: Path, *, settings: Settings, stop: threading.Event) -> FollowupReport:
    """`refresh_status`: ask LeadSquared again about the Pending rows."""
    return refresh_status(results, settings=settings, cancel=stop)


def verify(
    results: Path, mapping_path: Path, *, settings: Settings, report: Path, stop: threading.Event
) -> VerifyReport:
    """`verify_results`: read the opportunities back and write the reconciliation workbook."""
    return verify_results(
        results,
        mapping_path,
        settings=settings,
        report=report,
        cancel=stop,
    )


# ---------------------------------------------------------------- why rows failed


FailureLine = followup.FailureLine


def failed_rows(results: Path) -> list[FailureLine]:
    """The rows LeadSquared refused, with its reason in the user's words (none before the
    results are written)."""
    return list(_read_once(failures_of, results)) if results.is_file() else []


RetryPreview = retry.RetryPreview


def retry_preview(results: Path) -> RetryPreview | None:
    """What Retry failed would send and leave, said before it is pressed."""
    return _read_once(retry.retry_preview, results) if results.is_file() else None


def _read_once(read: Callable[[Path], T], results: Path) -> T:
    """A results workbook is read once per version: a big one is not streamed again at
    every visit of its page (the file's size and time of change name the version)."""
    stat = results.stat()
    return cast(T, _cached(read, str(results), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=64)
def _cached(read: Callable[[Path], object], path: str, _mtime: int, _size: int) -> object:
    return read(Path(path))


def fix_failed_rows(results: Path, edits: list[CellFix], changed: list[dict[str, Any]]) -> int:
    """The page's values for failed rows, written into the results for Retry to send."""
    return fixes.fix_failed_rows(results, edits, fixes.fix_sentences(changed))
