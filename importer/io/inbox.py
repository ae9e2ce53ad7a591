"""The inbox `watch` reads: which files are ready, and filing them away afterwards.

A file is ready when it has not changed for `settle` seconds (a copy or an export
still being written is left alone), and it is one of ours to read: not an Office
lock file, hidden, temporary, or lsq-import's own output.
"""

from __future__ import annotations

import itertools
import json
import shutil
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from importer.core.conventions import (
    RESULTS_SUFFIX,
    VALIDATION_SUFFIX,
    VERIFY_SUFFIX,
    WATCHED_SUFFIXES,
)

NOT_READY_SUFFIXES = (".part", ".tmp", ".crdownload")  # browsers' and copy tools' temp names
OWN_OUTPUT_SUFFIXES = (RESULTS_SUFFIX, VALIDATION_SUFFIX, VERIFY_SUFFIX)
ERROR_SUFFIX = ".error.txt"
STAMP_FORMAT = "%Y%m%d-%H%M%S"
SECOND_LOOK_SECONDS = 1.0  # longest pause between the two looks at a file's size


def is_candidate(path: Path) -> bool:
    """A spreadsheet someone dropped: not a lock, hidden, temporary or our own output."""
    name = path.name.lower()
    if name.startswith(("~$", ".")):
        return False
    if name.endswith(NOT_READY_SUFFIXES) or name.endswith(OWN_OUTPUT_SUFFIXES):
        return False
    return name.endswith(WATCHED_SUFFIXES)


def _look(path: Path) -> tuple[int, int] | None:
    """(size, mtime in ns), or None when the file is gone or not a regular file."""
    try:
        info = path.stat()
    except OSError:
        return None
    if not path.is_file():
        return None
    return info.st_size, info.st_mtime_ns


def scan_inbox(
    inbox: Path, settle: float, stop: threading.Event | None = None
) -> tuple[list[Path], list[Path]]:
    """(ready files oldest first, files still being written) directly in `inbox`.

    Ready: modified at least `settle` seconds ago, and the same size and mtime at
    two looks taken up to SECOND_LOOK_SECONDS apart.
    """
    first = {p: look for p in inbox.iterdir() if is_candidate(p) and (look := _look(p))}
    if first:
        pause = min(SECOND_LOOK_SECONDS, settle)
        if stop is not None:
            stop.wait(pause)
        else:
            time.sleep(pause)
    now_ns = time.time_ns()
    ready: list[Path] = []
    waiting: list[Path] = []
    for path, look in first.items():
        again = _look(path)
        if again is None:
            continue
        settled = now_ns - again[1] >= settle * 1e9
        (ready if again == look and settled else waiting).append(path)
    ready.sort(key=lambda p: (first[p][1], p.name))
    waiting.sort(key=lambda p: p.name)
    return ready, waiting


def settle_wait(paths: list[Path], settle: float) -> float:
    """Seconds until the newest of `paths` has been unchanged for `settle` seconds."""
    now_ns = time.time_ns()
    waits = [settle - (now_ns - look[1]) / 1e9 for p in paths if (look := _look(p)) is not None]
    return max([0.0, *waits])


def stamped_base(folder: Path, stem: str, suffix: str, when: datetime | None = None) -> str:
    """`<stem>.<YYYYmmdd-HHMMSS>[-N]`, free in `folder` for the input, results and error."""
    stamp = (when or datetime.now()).strftime(STAMP_FORMAT)
    for n in itertools.count():
        base = f"{stem}.{stamp}" if n == 0 else f"{stem}.{stamp}-{n}"
        names = (f"{base}{suffix}", f"{base}{RESULTS_SUFFIX}", f"{base}{ERROR_SUFFIX}")
        if not any((folder / name).exists() for name in names):
            return base
    raise AssertionError("unreachable")


def file_away(
    path: Path, results: Path | None, folder: Path, *, error: str | None = None
) -> tuple[Path, Path | None]:
    """Move the input (and its results, and an error note) into `folder` under unique names.

    Results go first: if we die in between, the input is still in the inbox and the
    next run resumes it (nothing sent twice) and writes its results again.
    """
    folder.mkdir(parents=True, exist_ok=True)
    base = stamped_base(folder, path.stem, path.suffix)
    moved_results = None
    if results is not None and results.exists():
        moved_results = folder / f"{base}{RESULTS_SUFFIX}"
        shutil.move(results, moved_results)
    if error is not None:
        (folder / f"{base}{ERROR_SUFFIX}").write_text(error + "\n", encoding="utf-8")
    destination = folder / f"{base}{path.suffix}"
    shutil.move(path, destination)
    return destination, moved_results


def append_log(log_path: Path, line: dict[str, Any]) -> None:
    """One JSON line per file, appended, so a crash never corrupts earlier lines."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, ensure_ascii=False) + "\n")
