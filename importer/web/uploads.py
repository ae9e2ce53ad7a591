"""Receiving a spreadsheet: streamed to disk under `--work` with the size limit enforced as it
arrives, stored under a generated name (its content's SHA-256), never under the user's name.

The same file uploaded twice is stored once, so the library's per-file lock and journal
treat it as the same file: one import of it at a time, and a second import resumes the first.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header

from importer.core.conventions import INPUT_SUFFIXES
from importer.core.errors import UserError

MAX_FIELD_BYTES = 64 * 1024  # a form field (mapping name, token...) is a few bytes
SUPPORTED = ".csv, .xlsx, .xls or .ods"


class UploadRefused(UserError):
    """The upload cannot be taken: too large, not a spreadsheet, or no file at all."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass
class Upload:
    """What a form post carried: its small fields and the stored file, if any."""

    fields: dict[str, str] = field(default_factory=dict)
    original_name: str = ""
    stored: Path | None = None
    size: int = 0


def display_name(raw: str) -> str:
    """The name to show: the last part of whatever the browser sent, without control characters."""
    last = raw.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in last if ch.isprintable()).strip()
    return cleaned[:200] or "spreadsheet"


def size_text(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:.0f} MB" if megabytes >= 10 else f"{megabytes:.1f} MB"


class _Receiver:
    """python-multipart callbacks: small fields kept in memory, the file streamed to disk."""

    def __init__(
        self,
        folder: Path,
        limit: int,
        file_field: str,
        fields_ok: Callable[[dict[str, str]], bool],
    ) -> None:
        self.folder = folder
        self.fields_ok = fields_ok
        self.limit = limit
        self.file_field = file_field
        self.upload = Upload()
        self.refused: UploadRefused | None = None
        self.partial: Path | None = None
        self._handle: IO[bytes] | None = None
        self._digest = hashlib.sha256()
        self._suffix = ""
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self._data = bytearray()

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self._disposition, self._name, self._is_file = b"", "", False
        self._data = bytearray()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def headers_finished(self) -> None:
        _kind, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            return
        self._is_file = True
        raw = options[b"filename"].decode("utf-8", "replace")
        if self._name != self.file_field or not raw or self.refused:
            return
        if self.upload.stored is not None or self._handle is not None:
            self.refuse("Send one spreadsheet at a time")
            return
        if not self.fields_ok(self.upload.fields):
            self.refuse("This page was out of date: reload it and choose the file again", 403)
            return
        name = display_name(raw)
        suffix = Path(name).suffix.lower()
        self.upload.original_name = name
        if suffix not in INPUT_SUFFIXES:
            self.refuse(f"{name} is not a spreadsheet this page reads: use a {SUPPORTED} file")
            return
        self._suffix = suffix
        self.partial = self.folder / f".partial-{secrets.token_hex(8)}"
        self._handle = self.partial.open("wb")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if not self._is_file:
            if len(self._data) + len(chunk) > MAX_FIELD_BYTES:
                self.refuse("A form field is too long")
                return
            self._data.extend(chunk)
            return
        if self._handle is None:
            return
        self.upload.size += len(chunk)
        if self.upload.size > self.limit:
            self.refuse(
                f"{self.upload.original_name} is larger than {size_text(self.limit)}, the most "
                "this page takes: split the file, or start the page with a larger --max-upload",
                413,
            )
            return
        self._digest.update(chunk)
        self._handle.write(chunk)

    def part_end(self) -> None:
        if not self._is_file:
            self.upload.fields[self._name] = self._data.decode("utf-8", "replace")
            return
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            self._finish_file()

    def refuse(self, message: str, status_code: int = 400) -> None:
        if self.refused is None:
            self.refused = UploadRefused(message, status_code)
        self.discard()

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self.partial is not None:
            with contextlib.suppress(FileNotFoundError):
                self.partial.unlink()
            self.partial = None

    def _finish_file(self) -> None:
        if self.partial is None:
            return
        if self.upload.size == 0:
            self.refuse(f"{self.upload.original_name} is empty")
            return
        final = self.folder / f"{self._digest.hexdigest()[:24]}{self._suffix}"
        if final.exists():
            self.partial.unlink()
        else:
            self.partial.replace(final)
        self.partial = None
        self.upload.stored = final


async def receive_upload(
    content_type: str,
    stream: AsyncIterator[bytes],
    folder: Path,
    *,
    limit: int,
    fields_ok: Callable[[dict[str, str]], bool],
    file_field: str = "file",
) -> Upload:
    """Parse a multipart form post as it streams in; raise `UploadRefused` with a clear message.

    `fields_ok` sees the fields sent before the file (the CSRF token comes first in the
    form): the file is not written unless they pass.

    A refused body is still read to its end (and thrown away, at most a few times the limit)
    so the browser receives the message instead of a broken connection.
    """
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadRefused("Choose a spreadsheet with the form on the home page")
    receiver = _Receiver(folder, limit, file_field, fields_ok)
    parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
    drained = 0
    try:
        async for chunk in stream:
            if receiver.refused is not None:
                drained += len(chunk)
                if drained > 2 * limit + MAX_FIELD_BYTES:
                    break
                continue
            parser.write(chunk)
        if receiver.refused is None:
            parser.finalize()
    except UploadRefused:
        raise
    except Exception as exc:  # a malformed body: python-multipart raises its own errors
        receiver.discard()
        raise UploadRefused("The upload was cut short or damaged; choose the file again") from exc
    finally:
        receiver.discard()
    if receiver.refused is not None:
        raise receiver.refused
    return receiver.upload
