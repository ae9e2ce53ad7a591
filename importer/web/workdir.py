"""The `--work` folder: uploads, checks, imports, drafted mappings and the journals.

Every name in it is generated here; nothing a browser sends is ever used as a path.
Records are written to a temporary file and renamed, so a crash never leaves half of one.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from importer.core.errors import UserError
from importer.web.records import CheckRecord, ImportRecord

_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")
RECORD = "record.json"


class NotFoundHere(UserError):
    """An id in a URL that names no check or import in this work folder."""


def new_id(now: datetime | None = None) -> str:
    """Sortable by time, unguessable enough: `20260115-143012-a1b2c3`."""
    return f"{(now or datetime.now()):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def now_text() -> str:
    return datetime.now().isoformat(timespec="seconds")


class WorkDir:
    """Where the page keeps everything; one lock guards the records' read-modify-write."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.uploads = self.root / "uploads"
        self.checks = self.root / "checks"
        self.imports = self.root / "imports"
        self.state = self.root / "state"
        self.drafts = self.root / "mappings"
        for folder in (self.uploads, self.checks, self.imports, self.state, self.drafts):
            folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()

    # -- secrets -----------------------------------------------------------------

    def secret(self) -> bytes:
        """A random key per work folder for CSRF and sign-in cookies; kept on disk so pages
        stay valid across a restart."""
        path = self.root / ".secret"
        with self._lock:
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(secrets.token_bytes(32))
            return path.read_bytes()

    # -- checks ----------------------------------------------------------------

    def check_dir(self, check_id: str) -> Path:
        return self.checks / _checked(check_id)

    def save_check(self, record: CheckRecord) -> None:
        with self._lock:
            _write_json(self.check_dir(record.id) / RECORD, record.to_json())

    def load_check(self, check_id: str) -> CheckRecord:
        path = self.check_dir(check_id) / RECORD
        if not path.is_file():
            raise NotFoundHere("This check is not in the work folder any more; start again")
        with self._lock:
            return CheckRecord.from_json(json.loads(path.read_text(encoding="utf-8")))

    # -- imports ---------------------------------------------------------------

    def import_dir(self, import_id: str) -> Path:
        return self.imports / _checked(import_id)

    def save_import(self, record: ImportRecord) -> None:
        with self._lock:
            _write_json(self.import_dir(record.id) / RECORD, record.to_json())

    def load_import(self, import_id: str) -> ImportRecord:
        path = self.import_dir(import_id) / RECORD
        if not path.is_file():
            raise NotFoundHere("This import is not in the work folder")
        with self._lock:
            return ImportRecord.from_json(json.loads(path.read_text(encoding="utf-8")))

    def update_import(self, import_id: str, change: Callable[[ImportRecord], None]) -> ImportRecord:
        """Load, change and save one import record as one step (threads share the folder)."""
        with self._lock:
            record = self.load_import(import_id)
            change(record)
            self.save_import(record)
            return record

    def all_imports(self) -> list[ImportRecord]:
        """Every import on disk, newest first; a damaged record is skipped, not fatal."""
        found: list[ImportRecord] = []
        with self._lock:
            for path in self.imports.glob(f"*/{RECORD}"):
                if not _ID.match(path.parent.name):
                    continue
                try:
                    found.append(ImportRecord.from_json(json.loads(path.read_text("utf-8"))))
                except (OSError, ValueError, TypeError):
                    continue
        return sorted(found, key=lambda r: r.id, reverse=True)


def _checked(value: str) -> str:
    if not _ID.match(value):
        raise NotFoundHere("There is no such check or import")
    return value


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, path)
