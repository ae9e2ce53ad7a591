"""One kind of lock: an exclusive `flock` on a small file, naming the process that holds it.

The kernel drops an flock when its process dies, so a `kill -9` never leaves a stale
lock; the pid written inside is only there to tell a waiting user who holds it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from importer.core.errors import LockedError


class FileLock:
    """Non-blocking: `try_acquire` says whether we got it; `with` raises LockedError if not."""

    def __init__(self, path: Path, busy_message: str = "") -> None:
        self.path = path
        self.busy_message = busy_message or f"Another lsq-import holds {path}"
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}\n".encode(), 0)
        self._fd = fd
        return True

    def holder(self) -> str:
        """Who holds the lock ("pid 1234"), as far as its file says."""
        try:
            text = self.path.read_text(errors="replace").strip()
        except OSError:
            text = ""
        return text or "pid unknown"

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileLock:
        if not self.try_acquire():
            raise LockedError(self.busy_message)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
