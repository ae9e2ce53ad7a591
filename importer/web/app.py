"""The page for ops: three screens (home, check, import) and the JSON for scripts.

`create_app(config)` builds the ASGI app; `importer.web.server` serves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from importer.commands.history import HistoryLine
from importer.commands.validate import check_mapping
from importer.core.config import Mode
from importer.core.errors import MappingError, UserError
from importer.core.outcomes import RowStatus
from importer.web import library
from importer.web.checks import plain, run_check
from importer.web.choices import DRAFT, MappingChoice, draft_file_name, find_choice, mapping_choices
from importer.web.colours import status_css
from importer.web.config import WebConfig
from importer.web.records import CheckRecord
from importer.web.security import SESSION_COOKIE, Guard, Keys, safe_next
from importer.web.tasks import TaskBoard
from importer.web.uploads import UploadRefused, receive_upload, size_text
from importer.web.words import duration, page_words, plural, verdict
from importer.web.workdir import NotFoundHere, WorkDir, new_id, now_text

HERE = Path(__file__).parent
log = logging.getLogger("importer.web")
STREAM_SECONDS = 20.0  # an event stream ends after this; the browser reconnects by itself
STREAM_EVERY = 0.4
FOLLOW_UPS = ("retry", "status", "verify")
STATUS_ORDER = [str(s) for s in RowStatus]
SESSION_DAYS = 30


class Page:
    """What every handler needs: the config, the work folder, the runs, the templates."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.work = WorkDir(config.work_dir)
        self.keys = Keys(self.work.secret(), config.token)
        self.board = TaskBoard(
            self.work, config.settings, Mode.parse(config.mode), address=config.address
        )
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["when"] = when
        self.templates.filters["duration"] = duration
        self.templates.filters["plural"] = plural
        self.templates.filters["page_words"] = page_words
        self.closing = threading.Event()

    def begin_stopping(self) -> None:
        """The server is about to stop: end the event streams, ask every run to stop."""
        self.closing.set()
        self.board.stop_all()

    def choices(self) -> list[MappingChoice]:
        return mapping_choices(self.config.mappings_dir, self.work.drafts)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = self.templates.get_template(template).render(
            csrf=self.keys.csrf,
            sandbox=self.config.sandbox,
            statuses=STATUS_ORDER,
            **context,
        )
        return HTMLResponse(html, status_code, headers={"cache-control": "no-store"})


def when(value: str) -> str:
    """`2026-01-15T14:30:12` → `15 Jan 2026, 14:30`."""
    try:
        return f"{datetime.fromisoformat(value):%d %b %Y, %H:%M}"
    except ValueError:
        return value


def page_of(request: Request) -> Page:
    page: Page = request.app.state.page
    return page


# ---------------------------------------------------------------- home and upload


async def home(request: Request) -> Response:
    page = page_of(request)
    nightly = await run_in_threadpool(library.nightly_files, page.config.settings)
    return _home(page, nightly=nightly)


def _home(
    page: Page,
    error: str = "",
    status_code: int = 200,
    nightly: list[HistoryLine] | None = None,
) -> HTMLResponse:
    imports = [(r, page.board.status(r)) for r in page.work.all_imports()]
    return page.render(
        "home.html",
        status_code,
        choices=page.choices(),
        imports=imports,
        nightly=nightly or [],
        error=error,
        max_upload=size_text(page.config.max_upload_bytes),
        max_upload_bytes=page.config.max_upload_bytes,
        sheet=page.config.sheet or "",
        header_row=page.config.header_row or "",
    )


async def upload(request: Request) -> Response:
    page = page_of(request)
    try:
        received = await receive_upload(
            request.headers.get("content-type", ""),
            request.stream(),
            page.work.uploads,
            limit=page.config.max_upload_bytes,
            fields_ok=lambda fields: page.keys.csrf_ok(fields.get("csrf")),
        )
        if not page.keys.csrf_ok(received.fields.get("csrf")):
            raise UploadRefused("This page was out of date: reload it and try again", 403)
        if received.stored is None:
            raise UploadRefused("Choose a spreadsheet first")
        sheet = received.fields.get("sheet", "").strip() or page.config.sheet
        header_row = _header_row(received.fields.get("header_row")) or page.config.header_row
    except UploadRefused as exc:
        return _home(page, str(exc), exc.status_code)
    except UserError as exc:
        return _home(page, str(exc), 400)
    stored = received.stored
    sheets = await run_in_threadpool(library.sheet_names, stored)
    record = CheckRecord(
        id=new_id(),
        original_name=received.original_name,
        input=stored.name,
        size=received.size,
        created=now_text(),
        sheets=sheets,
        sheet=sheet if sheets else None,  # a CSV file has no sheets to choose from
        header_row=header_row,
    )
    return await _check_with(page, record, received.fields.get("mapping", ""))


async def _check_with(page: Page, record: CheckRecord, key: str) -> Response:
    """Run the dry run with the chosen mapping, or go and draft one."""
    if key == DRAFT:
        record.result = None
        page.work.save_check(record)
        return RedirectResponse(f"/checks/{record.id}/match", 303)
    choice = find_choice(page.choices(), key)
    if choice is None:
        record.result = None
        record.problem = "Choose a mapping for this file"
        page.work.save_check(record)
    else:
        await run_in_threadpool(
            run_check,
            page.work,
            record,
            choice,
            rate=page.config.settings.rate,
            mode=page.config.mode,
        )
    return RedirectResponse(f"/checks/{record.id}", 303)


def _header_row(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise UserError(f'Header row "{text}" is not a row number: give 1, 2, 3… or leave it empty')
    return int(text)


# ---------------------------------------------------------------- the dry run


async def check_page(request: Request) -> Response:
    page = page_of(request)
    record = page.work.load_check(request.path_params["id"])
    return _check_page(page, record)


def _check_page(
    page: Page,
    record: CheckRecord,
    error: str = "",
    status_code: int = 200,
    error_link: str | None = None,
) -> Response:
    result = record.result
    line = ""
    columns: list[str] = []
    if result is not None:
        line = verdict(
            result.rows_read, result.valid, result.invalid, result.skipped, result.seconds
        )
        columns = sorted({p.column for p in result.problems}, key=str.casefold)
    return page.render(
        "check.html",
        status_code,
        check=record,
        result=result,
        verdict=line,
        problem_columns=columns,
        choices=page.choices(),
        error=error,
        error_link=error_link,
    )


async def recheck(request: Request) -> Response:
    page = page_of(request)
    record = page.work.load_check(request.path_params["id"])
    form = await _form(request, page)
    try:
        sheet = form.get("sheet", "").strip()
        record.sheet = sheet if sheet in record.sheets else record.sheet
        record.header_row = _header_row(form.get("header_row"))
    except UserError as exc:
        return _check_page(page, record, str(exc), 400)
    return await _check_with(page, record, form.get("mapping", ""))


async def fix_cells(request: Request) -> Response:
    """Apply the typed values to a copy of the file, then check it again with the same rules."""
    page = page_of(request)
    record = page.work.load_check(request.path_params["id"])
    form = await _form(request, page, max_fields=20_000)
    edits, changed = _edits_of(form)
    if not edits or record.result is None:
        return RedirectResponse(f"/checks/{record.id}", 303)
    source = page.work.uploads / record.input
    fixed_name = f"{Path(record.input).stem.split('.fixed')[0]}.fixed{len(record.fixes) + 1}"
    target = page.work.uploads / (fixed_name + source.suffix)
    try:
        await run_in_threadpool(
            library.apply_fixes,
            source,
            target,
            edits,
            sheet=record.sheet,
            header_row=record.result.header_row,
        )
    except UserError as exc:
        return _check_page(page, record, str(exc), 400)
    record.input = target.name
    record.fixes += changed
    return await _check_with(page, record, record.mapping_key or "")


def _edits_of(form: dict[str, str]) -> tuple[list[library.CellFix], list[dict[str, object]]]:
    """The cells whose value was changed (the last typed value of a cell listed twice)."""
    edits: dict[tuple[int, str], tuple[str, str]] = {}
    index = 0
    while f"cell-{index}" in form:
        row, _, column = form[f"cell-{index}"].partition("|")
        new, old = form.get(f"fix-{index}", ""), form.get(f"was-{index}", "")
        if row.isdigit() and new != old:
            edits[(int(row), column)] = (old, new)
        index += 1
    fixes = [library.CellFix(row, column, new) for (row, column), (_, new) in edits.items()]
    changed = [
        {"row": row, "column": column, "old": old, "new": new}
        for (row, column), (old, new) in edits.items()
    ]
    return fixes, changed


async def fixed_download(request: Request) -> Response:
    page = page_of(request)
    record = page.work.load_check(request.path_params["id"])
    if not record.fixes:
        raise NotFoundHere("No cell of this file was fixed on the page")
    path = page.work.uploads / record.input
    return _download(path, record.original_name, ".fixed" + path.suffix)


async def report_download(request: Request) -> Response:
    page = page_of(request)
    record = page.work.load_check(request.path_params["id"])
    if record.result is None:
        raise NotFoundHere("This check has no report")
    path = page.work.check_dir(record.id) / record.result.report
    return _download(path, record.original_name, ".validation.xlsx")


async def start(request: Request) -> Response:
    page = page_of(request)
    record = page.work.load_check(request.path_params["id"])
    await _form(request, page)
    try:
        started = await run_in_threadpool(page.board.start_import, record)
    except UserError as exc:
        busy = getattr(exc, "import_id", None)
        return _check_page(page, record, str(exc), 409, f"/imports/{busy}" if busy else None)
    return RedirectResponse(f"/imports/{started.id}", 303)


# ---------------------------------------------------------------- drafting a mapping


async def draft_page(request: Request) -> Response:
    page = page_of(request)
    record = page.work.load_check(request.path_params["id"])
    code_text = request.query_params.get("event_code", "").strip()
    event_code = int(code_text) if code_text.isdigit() else None
    problem = ""
    draft: library.Draft | None = None
    try:
        draft = await run_in_threadpool(
            library.draft_mapping,
            page.work.uploads / record.input,
            sheet=record.sheet,
            header_row=record.header_row,
            event_code=event_code,
            shown_name=record.original_name,
            mapping_name=draft_file_name(Path(record.original_name).stem, "mapping"),
        )
    except UserError as exc:
        problem = plain(str(exc), Path(record.input), record.original_name)
    return _draft_page(page, record, draft, problem, event_code=code_text)


def _draft_page(
    page: Page,
    record: CheckRecord,
    draft: library.Draft | None,
    problem: str,
    *,
    event_code: str = "",
    yaml_text: str | None = None,
    name: str | None = None,
    status_code: int = 200,
) -> Response:
    return page.render(
        "draft.html",
        status_code,
        check=record,
        draft=draft,
        problem=problem,
        event_code=event_code,
        yaml_text=yaml_text if yaml_text is not None else (draft.yaml_text if draft else ""),
        name=name or draft_file_name(Path(record.original_name).stem, "mapping"),
    )


async def save_draft(request: Request) -> Response:
    page = page_of(request)
    record = page.work.load_check(request.path_params["id"])
    form = await _form(request, page)
    text = form.get("yaml_text", "")
    name = draft_file_name(form.get("name", ""), Path(record.original_name).stem)
    folder = page.work.check_dir(record.id)
    folder.mkdir(parents=True, exist_ok=True)
    candidate = folder / name
    candidate.write_text(text.replace("\r\n", "\n"), encoding="utf-8")
    try:
        await run_in_threadpool(check_mapping, candidate)
    except MappingError as exc:
        return _draft_page(page, record, None, str(exc), yaml_text=text, name=name, status_code=400)
    saved = page.work.drafts / name
    saved.write_bytes(candidate.read_bytes())
    choice = MappingChoice(f"d:{name}", name, saved, True)
    await run_in_threadpool(
        run_check, page.work, record, choice, rate=page.config.settings.rate, mode=page.config.mode
    )
    return RedirectResponse(f"/checks/{record.id}", 303)


# ---------------------------------------------------------------- matching columns

MATCHING_FILE = "matching.json"  # the drafted choices, so a save keeps the draft's rules
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def match_page(request: Request) -> Response:
    """One row per column, preselected from the draft (or from `?mapping=KEY` to edit it)."""
    page = page_of(request)
    record = page.work.load_check(request.path_params["id"])
    code_text = request.query_params.get("event_code", "").strip()
    choice = find_choice(page.choices(), request.query_params.get("mapping", ""))
    input_path = page.work.uploads / record.input
    try:
        if choice is not None:
            chosen = await run_in_threadpool(
                library.matching_of_mapping, choice.path, input_path, record
            )
        else:
            chosen = await run_in_threadpool(
                library.propose_matching,
                input_path,
                sheet=record.sheet,
                header_row=record.header_row,
                event_code=int(code_text) if code_text.isdigit() else None,
            )
            chosen.event_code = chosen.event_code or code_text
            chosen.name = Path(record.original_name).stem + " mapping"
            # One sheet and header row from the draft to the results: what it read is read.
            record.sheet = chosen.sheet if record.sheets else None
            record.header_row = chosen.header_row
            page.work.save_check(record)
    except UserError as exc:
        problem = plain(str(exc), Path(record.input), record.original_name)
        return _draft_page(page, record, None, problem, event_code=code_text, status_code=400)
    folder = page.work.check_dir(record.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MATCHING_FILE).write_text(json.dumps(_drafted(chosen)), encoding="utf-8")
    return _match_page(page, record, chosen)


def _drafted(chosen: library.Matching) -> dict[str, object]:
    return {
        "default_country": chosen.default_country,
        "extra": chosen.extra,
        "drafted_unique": chosen.drafted_unique,
        "replaces": chosen.replaces,
        "columns": {
            c.column: {
                "target": c.drafted,
                "type": c.drafted_type,
                "rules": c.rules,
                "samples": c.samples,
            }
            for c in chosen.columns
        },
    }


def _match_page(
    page: Page, record: CheckRecord, chosen: library.Matching, status_code: int = 200
) -> Response:
    return page.render(
        "match.html",
        status_code,
        check=record,
        matching=chosen,
        fields=library.field_choices(),
        types=library.FIELD_TYPES,
    )


async def save_match(request: Request) -> Response:
    """Save the choices as a normal mapping file, then check the file with it."""
    page = page_of(request)
    record = page.work.load_check(request.path_params["id"])
    form = await _form(request, page, max_fields=5000)
    chosen = _matching_of_form(form, page.work.check_dir(record.id) / MATCHING_FILE)
    try:
        saved = await run_in_threadpool(library.save_matching, chosen, page.config.mappings_dir)
    except library.MatchingRefused as refused:
        chosen.problems = refused.problems
        return _match_page(page, record, chosen, status_code=400)
    choice = MappingChoice(f"m:{saved.name}", saved.name, saved, False)
    await run_in_threadpool(
        run_check, page.work, record, choice, rate=page.config.settings.rate, mode=page.config.mode
    )
    return RedirectResponse(f"/checks/{record.id}", 303)


def _matching_of_form(form: dict[str, str], drafted_at: Path) -> library.Matching:
    """The choices as typed (every input kept), with the draft's rules where they still fit."""
    drafted: dict[str, object] = {}
    if drafted_at.is_file():
        drafted = json.loads(drafted_at.read_text(encoding="utf-8"))
    by_column = drafted.get("columns", {})
    assert isinstance(by_column, dict)
    columns = []
    index = 0
    while f"column-{index}" in form:
        column = form[f"column-{index}"]
        was = by_column.get(column, {})
        columns.append(
            library.ColumnChoice(
                column=column,
                field=form.get(f"field-{index}", ""),
                schema_name=form.get(f"schema-name-{index}", ""),
                type=form.get(f"type-{index}", "string"),
                required=f"required-{index}" in form,
                samples=[str(v) for v in was.get("samples", [])],
                drafted=str(was.get("target", "")),
                drafted_type=str(was.get("type", "")),
                rules=dict(was.get("rules", {})),
            )
        )
        index += 1
    country = drafted.get("default_country")
    extra = drafted.get("extra")
    unique = drafted.get("drafted_unique")
    return library.Matching(
        columns=columns,
        event_code=form.get("event_code", ""),
        name=form.get("name", ""),
        default_country=country if isinstance(country, str) else None,
        extra=dict(extra) if isinstance(extra, dict) else {},
        drafted_unique=[str(n) for n in unique] if isinstance(unique, list) else [],
        replaces=str(drafted.get("replaces") or ""),
    )


# ---------------------------------------------------------------- imports


async def import_page(request: Request) -> Response:
    page = page_of(request)
    return await _import_page(page, request.path_params["id"])


async def _import_page(
    page: Page, import_id: str, error: str = "", status_code: int = 200
) -> Response:
    record = page.work.load_import(import_id)
    status = page.board.status(record)
    failures: list[library.FailureLine] = []
    preview = None
    if status.state not in ("running", "stopping"):  # the results workbook is read off the loop
        results = Path(record.results)
        failures = await run_in_threadpool(library.failed_rows, results)
        if "retry" in status.actions:
            preview = await run_in_threadpool(library.retry_preview, results)
    return page.render(
        "import.html",
        status_code,
        record=record,
        status=status,
        status_json=json.dumps(status.event()),
        error=error,
        failures=failures,
        retry_preview=preview,
    )


async def import_action(request: Request) -> Response:
    page = page_of(request)
    import_id = request.path_params["id"]
    action = request.path_params["action"]
    page.work.load_import(import_id)  # 404 before anything else
    await _form(request, page)
    try:
        if action == "cancel":
            page.board.cancel(import_id)
        elif action == "resume":
            await run_in_threadpool(page.board.resume, import_id)
        elif action in FOLLOW_UPS:
            await run_in_threadpool(page.board.follow_up, import_id, action)
        else:
            raise HTTPException(404)
    except UserError as exc:
        return await _import_page(page, import_id, str(exc), 409)
    return RedirectResponse(f"/imports/{import_id}", 303)


async def fix_failures(request: Request) -> Response:
    """The values typed beside failed rows go into the results, then Retry sends them."""
    page = page_of(request)
    import_id = request.path_params["id"]
    record = page.work.load_import(import_id)
    form = await _form(request, page, max_fields=20_000)
    edits, changed = _edits_of(form)
    try:
        if page.board.status(record).state in ("running", "stopping"):
            raise UserError("The import is still running: wait for it to end, then retry")
        if edits:
            await run_in_threadpool(library.fix_failed_rows, Path(record.results), edits, changed)
        await run_in_threadpool(page.board.follow_up, import_id, "retry")
    except UserError as exc:
        return await _import_page(page, import_id, str(exc), 409)
    return RedirectResponse(f"/imports/{import_id}", 303)


async def events(request: Request) -> Response:
    """Server-sent events: the import's status whenever it changes, while it runs."""
    page = page_of(request)
    import_id = request.path_params["id"]
    page.work.load_import(import_id)

    async def stream() -> AsyncIterator[str]:
        yield "retry: 1500\n\n"
        last = ""
        ends = time.monotonic() + STREAM_SECONDS
        while True:
            status = page.board.status(page.work.load_import(import_id))
            text = json.dumps(status.event())
            if text != last:
                yield f"event: status\ndata: {text}\n\n"
                last = text
            if status.state not in ("running", "stopping") or time.monotonic() > ends:
                return
            await asyncio.sleep(STREAM_EVERY)
            if page.closing.is_set():
                return

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"cache-control": "no-store"}
    )


async def results_download(request: Request) -> Response:
    page = page_of(request)
    record = page.work.load_import(request.path_params["id"])
    return _download(Path(record.results), record.original_name, ".results.xlsx")


async def verify_download(request: Request) -> Response:
    page = page_of(request)
    record = page.work.load_import(request.path_params["id"])
    if not record.verify_report:
        raise NotFoundHere("This import has not been verified yet")
    return _download(Path(record.verify_report), record.original_name, ".verify.xlsx")


def _download(path: Path, original_name: str, suffix: str) -> Response:
    if not path.is_file():
        raise NotFoundHere("That workbook is not there yet")
    name = f"{Path(original_name).stem or 'import'}{suffix}"
    media = "text/csv" if path.suffix.lower() in (".csv", ".tsv", ".txt") else XLSX_MEDIA
    return FileResponse(
        path,
        filename=name,
        media_type=media,
        headers={"cache-control": "no-store"},
    )


async def colours(request: Request) -> Response:
    return Response(status_css(), media_type="text/css", headers={"cache-control": "no-cache"})


# ---------------------------------------------------------------- JSON for scripts


async def api_imports(request: Request) -> Response:
    page = page_of(request)
    return JSONResponse([page.board.status(r).api() for r in page.work.all_imports()])


async def api_import(request: Request) -> Response:
    page = page_of(request)
    try:
        record = page.work.load_import(request.path_params["id"])
    except NotFoundHere as exc:
        return JSONResponse({"error": str(exc)}, 404)
    return JSONResponse(page.board.status(record).api())


# ---------------------------------------------------------------- signing in


async def login_page(request: Request) -> Response:
    page = page_of(request)
    if page.keys.token is None:
        return RedirectResponse("/", 303)
    return page.render("login.html", next=safe_next(request.query_params.get("next")), error="")


async def login(request: Request) -> Response:
    page = page_of(request)
    form = await _form(request, page)
    wanted = safe_next(form.get("next"))
    if not page.keys.token_ok(form.get("token", "").strip()):
        await asyncio.sleep(1.0)  # a guess costs a second
        return page.render("login.html", 401, next=wanted, error="That token is not right.")
    response = RedirectResponse(wanted, 303)
    response.set_cookie(
        SESSION_COOKIE,
        page.keys.session_value(),
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="strict",
        path="/",
    )
    return response


# ---------------------------------------------------------------- plumbing


async def _form(request: Request, page: Page, *, max_fields: int = 50) -> dict[str, str]:
    """A small url-encoded form, with its CSRF token checked (or the X-CSRF-Token header)."""
    async with request.form(
        max_files=0, max_fields=max_fields, max_part_size=4 * 1024 * 1024
    ) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
    token = fields.get("csrf") or request.headers.get("x-csrf-token")
    if not page.keys.csrf_ok(token):
        raise HTTPException(403, "This page was out of date: go back, reload it and try again.")
    return fields


async def not_found(request: Request, exc: Exception) -> Response:
    page = page_of(request)
    message = str(exc) if isinstance(exc, NotFoundHere) else "There is nothing at this address."
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, 404)
    return page.render("message.html", 404, title="Not found", message=message)


async def http_error(request: Request, exc: Exception) -> Response:
    page = page_of(request)
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return await not_found(request, exc)
    return page.render("message.html", exc.status_code, title="Refused", message=str(exc.detail))


async def unexpected(request: Request, exc: Exception) -> Response:
    """A bug of ours: say so in plain words; the details go to the server's log."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    page = page_of(request)
    message = (
        f"Something went wrong inside lsq-import ({type(exc).__name__}). The details are in "
        "the server's log; going back and trying again is safe."
    )
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, 500)
    return page.render("message.html", 500, title="Something went wrong", message=message)


def create_app(config: WebConfig) -> Starlette:
    """The page as an ASGI app. Stopping it (lifespan shutdown) stops its runs cleanly."""
    page = Page(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(page.board.shutdown)

    routes = [
        Route("/", home),
        Route("/check", upload, methods=["POST"]),
        Route("/checks/{id}", check_page),
        Route("/checks/{id}", recheck, methods=["POST"]),
        Route("/checks/{id}/report", report_download),
        Route("/checks/{id}/fix", fix_cells, methods=["POST"]),
        Route("/checks/{id}/fixed", fixed_download),
        Route("/imports/{id}/fix", fix_failures, methods=["POST"]),
        Route("/checks/{id}/draft", draft_page),
        Route("/checks/{id}/draft", save_draft, methods=["POST"]),
        Route("/checks/{id}/match", match_page),
        Route("/checks/{id}/match", save_match, methods=["POST"]),
        Route("/checks/{id}/start", start, methods=["POST"]),
        Route("/imports/{id}", import_page),
        Route("/imports/{id}/events", events),
        Route("/imports/{id}/results", results_download),
        Route("/imports/{id}/verify-report", verify_download),
        Route("/imports/{id}/{action}", import_action, methods=["POST"]),
        Route("/colours.css", colours),
        Route("/api/imports", api_imports),
        Route("/api/imports/{id}", api_import),
        Route("/login", login_page),
        Route("/login", login, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            NotFoundHere: not_found,
            HTTPException: http_error,
            Exception: unexpected,
        },
    )
    app.state.page = page
    app.add_middleware(Guard, keys=page.keys, allowed_hosts=config.allowed_hosts)
    return app
