"""What the page remembers about a check and an import, as small JSON files in `--work`.

They are the page's own notes (file names as the user knows them, which mapping, where
the results are); the rows themselves stay in the import's journal and workbook, so a
restarted server lists every import and can resume it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

State = Literal["running", "stopping", "finished", "stopped"]
ActivityKind = Literal["import", "retry", "status", "verify"]


@dataclass
class Problem:
    """One line of the problems table: a row, the user's column, its value, what is wrong."""

    row: int
    column: str
    value: str
    message: str


@dataclass
class PreviewColumn:
    """A preview column: headed by the user's column name, the Schema Name beneath."""

    label: str
    schema: str


@dataclass
class CheckResult:
    """What a dry run found, kept so the check page can be shown again."""

    rows_read: int
    valid: int
    invalid: int
    skipped: int
    problems: list[Problem]
    preview_columns: list[PreviewColumn]
    preview_rows: list[list[str]]  # the row number first, then one value per column
    warnings: list[str]
    seconds: float  # the import's expected duration
    report: str  # the validation report's file name in the check folder
    header_row: int = 1  # where the check found the headers (fixes are written below them)


@dataclass
class CheckRecord:
    """An uploaded file and its latest dry run."""

    id: str
    original_name: str
    input: str  # the stored file's name under uploads/ (generated, never the user's)
    size: int
    created: str
    sheets: list[str] = field(default_factory=list)
    sheet: str | None = None
    header_row: int | None = None
    mapping_name: str | None = None  # as listed on the home page
    mapping_key: str | None = None  # its key in the mapping list
    mapping_file: str | None = None  # its copy in the check folder: what was checked is imported
    result: CheckResult | None = None
    problem: str | None = None  # a mistake that stopped the check (missing column, bad file)
    # cells fixed on the page: {"row", "column", "old", "new"}; the stored input has them
    fixes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckRecord:
        values = _known(cls, data)
        result = values.get("result")
        if isinstance(result, dict):
            result = dict(result)
            result["problems"] = [Problem(**p) for p in result.get("problems", [])]
            result["preview_columns"] = [
                PreviewColumn(**c) for c in result.get("preview_columns", [])
            ]
            values["result"] = CheckResult(**_known(CheckResult, result))
        return cls(**values)


@dataclass
class Activity:
    """The latest follow-up on an import (retry, status, verify) and how it went."""

    kind: ActivityKind
    state: State
    line: str = ""  # one plain sentence: what it did, or why it stopped
    started: str = ""
    finished: str = ""


@dataclass
class ImportRecord:
    """One import started from the page; `state` is what the JSON API reports."""

    id: str
    check_id: str
    original_name: str
    input: str  # absolute path of the stored upload
    input_sha256: str
    mapping_name: str
    mapping: str  # absolute path of the mapping copy used for every run of this import
    mapping_sha256: str
    sheet: str | None
    header_row: int | None
    mode: str
    results: str  # absolute path of the results workbook
    state_dir: str
    created: str
    total: int  # rows ready to import
    invalid: int
    state: State = "running"
    done: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    rate_limited: int = 0
    pace: float = 0.0  # rows per second of the last run
    origins: dict[str, int] = field(default_factory=dict)  # Success rows: new, already...
    message: str = ""  # why it stopped, in words for the user
    finished: str = ""
    activity: Activity | None = None
    verify_report: str = ""  # absolute path, once verified
    fixes: list[dict[str, Any]] = field(default_factory=list)  # cells fixed on the check page

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportRecord:
        values = _known(cls, data)
        activity = values.get("activity")
        if isinstance(activity, dict):
            values["activity"] = Activity(**_known(Activity, activity))
        return cls(**values)


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """Only the fields this version knows: a record written by a newer one still loads."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}
