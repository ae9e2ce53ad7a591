"""One import as the page, the event stream and the JSON API all show it.

Live figures come from the run's progress while it runs; afterwards from the record
the run left on disk. Which buttons apply is decided here, once, for the server's
HTML and for the script that updates the page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from importer.core.outcomes import Origin, RowStatus
from importer.web.progress import Snapshot
from importer.web.records import Activity, ImportRecord, State
from importer.web.words import duration, rows_done

ACTIVITY_WORDS = {
    "import": "Importing",
    "retry": "Sending the failed rows again",
    "status": "Asking LeadSquared about the pending rows",
    "verify": "Reading the opportunities back from LeadSquared",
}


@dataclass
class ImportStatus:
    """Everything the import page shows, JSON-able."""

    id: str
    input: str
    state: State
    total: int
    done: int
    counts: dict[str, int]
    results_url: str | None
    progress_text: str
    calls: int = 0
    rate_limited: int = 0
    sent_text: str = ""
    origin_text: str = ""
    pace_text: str = ""
    time_left_text: str = ""
    message: str = ""
    activity: dict[str, str] | None = None
    actions: list[str] = field(default_factory=list)
    file_rows: int = 0  # the rows of the file (ready and invalid): what the bars are scaled to

    def api(self) -> dict[str, Any]:
        """The JSON scripts rely on (CONTRACT 7), plus a plain message when it stopped."""
        return {
            "id": self.id,
            "input": self.input,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "counts": self.counts,
            "results_url": self.results_url,
            "message": self.message,
        }

    def event(self) -> dict[str, Any]:
        return asdict(self)


def import_status(
    record: ImportRecord,
    *,
    live: Snapshot | None,
    live_kind: str | None,
    can_cancel: bool,
    stopping: bool = False,
) -> ImportStatus:
    """The import as it is now; `live` is the running task's progress, if one runs."""
    running = live_kind is not None
    state: State = ("stopping" if stopping else "running") if running else _settled(record.state)
    counts = {str(s): record.counts.get(str(s), 0) for s in RowStatus}
    done, total = record.done, record.total
    calls, throttled = record.calls, record.rate_limited
    pace_text = time_left = sent_text = ""
    if record.pace > 0:
        pace_text = f"{record.pace:.1f} rows per second"
    if live is not None and live_kind == "import":
        counts, done, total = live.counts, live.done, live.total or record.total
        calls, throttled = live.calls, live.rate_limited
        sent_text = str(live.sent)
        if live.awaiting > 0:
            sent_text += f" ({live.awaiting} waiting for LeadSquared's answer)"
        pace_text = ""
        if live.rows_per_second > 0:
            pace_text = f"{live.rows_per_second:.1f} rows per second"
        if live.seconds_left is not None:
            time_left = duration(live.seconds_left) + " left" if live.seconds_left else ""
    origins = live.origins if live is not None and live_kind == "import" else record.origins
    results = Path(record.results)
    status = ImportStatus(
        id=record.id,
        input=record.original_name,
        state=state,
        total=total,
        done=done,
        counts=counts,
        results_url=f"/imports/{record.id}/results" if results.is_file() else None,
        progress_text=rows_done(done, total),
        calls=calls,
        rate_limited=throttled,
        sent_text=sent_text,
        origin_text=origin_text(origins),
        pace_text=pace_text,
        time_left_text=time_left,
        message="" if running and live_kind == "import" else record.message,
        activity=_activity(record.activity, live, live_kind),
        file_rows=max(record.total + record.invalid, sum(counts.values()), 1),
    )
    status.actions = next_actions(status, record, can_cancel=can_cancel and running)
    return status


def origin_text(origins: dict[str, int]) -> str:
    """Where the Success rows came from, when it is not simply "all new"."""
    created = origins.get(str(Origin.CREATED), 0)
    already = origins.get(str(Origin.ALREADY_IMPORTED), 0)
    duplicate = origins.get(str(Origin.DUPLICATE), 0)
    if not already and not duplicate:
        return ""
    parts = [f"{created} new"]
    if already:
        parts.append(f"{already} already in LeadSquared from an earlier import (not sent again)")
    if duplicate:
        parts.append(f"{duplicate} already in LeadSquared (found by its duplicate check)")
    return "Success rows: " + ", ".join(parts) + "."


def _settled(state: State) -> State:
    """A record still saying `running` with no run behind it was cut off: it can be resumed."""
    return "stopped" if state == "running" else state


def _activity(
    activity: Activity | None, live: Snapshot | None, live_kind: str | None
) -> dict[str, str] | None:
    if live_kind is not None and live_kind != "import":
        text = ACTIVITY_WORDS.get(live_kind, "Working")
        if live is not None and live.total:
            text += f": {rows_done(live.done, live.total)}"
        return {"kind": live_kind, "state": "running", "line": text + "…"}
    if activity is None or activity.kind == "import":
        return None
    state = _settled(activity.state)
    line = activity.line or "Stopped before it finished; start it again"
    return {"kind": activity.kind, "state": state, "line": line}


def next_actions(status: ImportStatus, record: ImportRecord, *, can_cancel: bool) -> list[str]:
    """The buttons that apply now, in the order the page shows them."""
    if status.state == "running":
        return (["cancel"] if can_cancel else []) + (["download"] if status.results_url else [])
    found: list[str] = []
    if status.results_url:
        found.append("download")
    if status.state == "stopped":
        found.append("resume")
    if status.counts.get(RowStatus.FAILURE, 0) and status.state == "finished":
        found.append("retry")
    if status.counts.get(RowStatus.PENDING, 0) and status.results_url:
        found.append("status")
    if status.counts.get(RowStatus.SUCCESS, 0) and status.state == "finished":
        found.append("verify")
    if record.verify_report and Path(record.verify_report).is_file():
        found.append("verify-report")
    return found
