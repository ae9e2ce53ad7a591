"""The worker pool: sends rows through the session's limiter, polls the Status API when an
answer is likely, and writes every step to the journal before acting on it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from importer.core.config import Mode, Settings
from importer.core.conventions import SHARE_STATUS
from importer.core.errors import (
    ApiError,
    AuthError,
    ImportCancelled,
    NotFound,
    RateLimited,
    RowRejected,
    TransientError,
    UserError,
)
from importer.core.outcomes import RowOutcome, RowStatus
from importer.io.journal import Journal, JournalRow, RowState
from importer.lsq import verdicts
from importer.lsq.responses import TaskStatus
from importer.send.polling import PollItem, PollSchedule
from importer.send.previous import Decision, PreviousImports, Verdict
from importer.send.progress import Counters, Progress
from importer.send.retry import RetryHooks, backoff
from importer.send.session import Session
from importer.send.share import NOT_SHARED_DUPLICATE, SHARE_PENDING, share_created, share_due

log = logging.getLogger("importer.pool")

Operation = Literal["capture", "update"]
METRICS_EVERY = 60.0  # seconds between two looks at the async queue's metrics
CANCEL_CHECK_SECONDS = 0.1
STOP_GRACE_SECONDS = 15.0  # after a stop, how long calls under way may take to answer
LEDGER_RECHECK_SECONDS = 1.0  # a row another run is sending: look again this often
MAX_POLL_BACKOFF_STEP = 6


@dataclass(slots=True)
class Job:
    """One row to send: its body, and what its share step needs (if any)."""

    row_number: int
    body: dict[str, Any]
    share_item: Callable[[str], dict[str, Any]] | None = None
    uncertain: bool = False  # an earlier attempt may have been processed
    identity: str | None = None  # the row's identity in the account ledger
    values: dict[str, str] = field(default_factory=dict)  # sent values by target


class _Fatal(Exception):
    """Internal: carries the error that must stop the whole run."""


class _Abandon(Exception):
    """Internal: a stop came before this row's next attempt; it is left for the next run."""


class ImportPool:
    """Runs one import: every job ends with exactly one outcome in the journal."""

    def __init__(
        self,
        session: Session,
        journal: Journal,
        *,
        mode: Mode = Mode.ASYNC,
        operation: Operation = "capture",
        cancel: threading.Event | None = None,
        previous: PreviousImports | None = None,
    ) -> None:
        self.session = session
        self.previous = previous
        self.journal = journal
        self.settings = session.settings
        self.mode = mode
        self.operation = operation
        self.cancel = cancel
        self.outcomes: dict[int, RowOutcome] = {}
        self._polls: PollSchedule[Job] = PollSchedule(
            clock=session.clock, poll_timeout=self.settings.poll_timeout, sleep=session.sleep
        )
        self._outstanding = 0
        self._producing = True
        self._all_done = asyncio.Event()
        self._metrics_enabled = True
        self._metrics_next = 0.0
        self._waiting: list[asyncio.Task[None]] = []
        self._stopping = False  # asked to stop: send nothing new, let calls in flight end
        self._in_flight = 0  # HTTP calls under way right now

    # -- public ------------------------------------------------------------------

    async def run(
        self, jobs: Iterable[Job] | AsyncIterator[Job], resume: dict[int, JournalRow]
    ) -> dict[int, RowOutcome]:
        """Send every job not already finished; returns the outcome of every job."""
        workers = self.settings.workers
        queue: asyncio.Queue[Job | None] = asyncio.Queue(maxsize=workers * 4)
        tasks = [asyncio.create_task(self._produce(jobs, resume, queue))]
        tasks += [asyncio.create_task(self._worker(queue)) for _ in range(workers)]
        if self.mode == Mode.ASYNC:
            tasks += [asyncio.create_task(self._poller()) for _ in range(max(1, workers // 2))]
        if self.cancel is not None:
            tasks.append(asyncio.create_task(self._watch_cancel(self.cancel)))
        done_wait = asyncio.create_task(self._all_done.wait())
        waiting: set[asyncio.Task[Any]] = {done_wait, *tasks}
        try:
            while not done_wait.done():
                waiting.update(self._waiting)
                self._waiting.clear()
                finished, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    error = None if task is done_wait else task.exception()
                    if error is not None:
                        raise error
        except _Fatal as stop:
            raise stop.args[0] from None
        finally:
            everything = [done_wait, *tasks, *waiting, *self._waiting]
            for task in everything:
                task.cancel()
            await asyncio.gather(*everything, return_exceptions=True)
        return self.outcomes

    # -- producing -----------------------------------------------------------------

    async def _produce(
        self,
        jobs: Iterable[Job] | AsyncIterator[Job],
        resume: dict[int, JournalRow],
        queue: asyncio.Queue[Job | None],
    ) -> None:
        probed = False
        async for job in _aiter(jobs):
            previous = resume.get(job.row_number)
            if previous is not None and previous.state == RowState.DONE and previous.outcome:
                if (
                    job.share_item is not None
                    and previous.outcome.extra.get(SHARE_STATUS) == SHARE_PENDING
                ):
                    self._outstanding += 1  # the capture is done; its share was cut short
                    await self._finish(previous.outcome, job)
                else:
                    self._record(previous.outcome, write=False)
                continue
            self._outstanding += 1
            if previous is not None and previous.state == RowState.ACCEPTED and previous.request_id:
                waited = time.time() - (previous.accepted_at or time.time())
                self._polls.add(
                    job.row_number,
                    previous.request_id,
                    # Poll soon, and give this run its own --poll-timeout from now on.
                    accepted=self.session.clock()
                    - min(max(0.0, waited), self._polls.delay_estimate),
                    uncertain=previous.uncertain,
                    job=job,
                )
                continue
            job.uncertain = previous is not None and (
                previous.uncertain or previous.state == RowState.SENDING
            )
            if self._stopping:
                break
            if self._answered_by_ledger(job):
                continue
            if not probed:
                # The first call goes alone: wrong keys then cost one call, not one per worker.
                await self._send(job)
                probed = True
            else:
                await queue.put(job)
        self._producing = False
        for _ in range(self.settings.workers):
            await queue.put(None)
        self._check_done()

    def _answered_by_ledger(self, job: Job) -> bool:
        """Ask the account ledger first; True when the row must not be sent (now)."""
        if self.previous is None or job.identity is None:
            return False
        decision = self.previous.decide(job.identity, job.row_number, job.values)
        if decision.verdict == Verdict.WAIT:
            self._waiting.append(asyncio.create_task(self._wait_turn(job)))
            return True
        return self._route(job, decision)

    def _route(self, job: Job, decision: Decision) -> bool:
        """Act on the ledger's answer; True when nothing is to be sent."""
        if decision.verdict == Verdict.KNOWN and decision.outcome is not None:
            self._record(decision.outcome)  # journaled; the ledger keeps where it came from
            self._job_done()
            return True
        if decision.verdict == Verdict.POLL and decision.request_id:
            self.journal.mark_sending(job.row_number)
            self.journal.mark_accepted(job.row_number, decision.request_id)
            self._polls.add(
                job.row_number,
                decision.request_id,
                accepted=self.session.clock(),
                uncertain=False,
                job=job,
            )
            return True
        if decision.verdict == Verdict.SEND_UNCERTAIN:
            job.uncertain = True
        return False

    async def _wait_turn(self, job: Job) -> None:
        """Another run (or an earlier row of this file) is sending the same row: wait for it."""
        assert self.previous is not None and job.identity is not None
        while True:
            await self.session.sleep(LEDGER_RECHECK_SECONDS)
            decision = self.previous.decide(job.identity, job.row_number, job.values)
            if decision.verdict != Verdict.WAIT:
                break
        if not self._route(job, decision):
            await self._send(job)

    async def _worker(self, queue: asyncio.Queue[Job | None]) -> None:
        while (job := await queue.get()) is not None:
            if self._stopping:
                self._unclaim(job)
                continue
            await self._send(job)

    async def _watch_cancel(self, cancel: threading.Event) -> None:
        """A stop lets the calls under way end (their answers are kept), then stops the run."""
        while not cancel.is_set():
            await asyncio.sleep(CANCEL_CHECK_SECONDS)  # real time: the event is set by a thread
        self._stopping = True
        deadline = self.session.clock() + STOP_GRACE_SECONDS
        while self._in_flight and self.session.clock() < deadline:
            await self.session.sleep(CANCEL_CHECK_SECONDS)
        raise ImportCancelled("the import was stopped")

    def _unclaim(self, job: Job) -> None:
        if self.previous is not None and job.identity is not None:
            self.previous.unclaim(job.identity, job.row_number)

    # -- sending ---------------------------------------------------------------------

    async def _send(self, job: Job) -> None:
        """One row until LeadSquared accepts, answers or refuses it (or retrying cannot help)."""
        self._in_flight += 1  # a stop waits for this row's answer to be recorded
        try:
            await self._send_row(job)
        finally:
            self._in_flight -= 1

    async def _send_row(self, job: Job) -> None:
        self.session.progress.sent(job.row_number)

        def before_attempt() -> None:
            if self._stopping:
                raise _Abandon  # a stop came between attempts: this row waits for the next run
            self.journal.mark_sending(job.row_number, uncertain=job.uncertain)

        def reply_lost() -> None:
            job.uncertain = True
            self.journal.mark_uncertain(job.row_number)

        hooks = RetryHooks(before_attempt=before_attempt, reply_lost=reply_lost)
        try:
            if self.mode == Mode.ASYNC:
                call = self.session.client.capture_async
                if self.operation == "update":
                    call = self.session.client.update_async
                request_id = await self.session.call(
                    lambda: call(job.body), window=self.mode, hooks=hooks
                )
            else:
                result = await self.session.call(
                    lambda: self.session.client.capture_sync(job.body),
                    window=self.mode,
                    hooks=hooks,
                )
        except RateLimited:
            failure = "LeadSquared kept answering 429 (too many calls)"
        except TransientError as exc:
            failure = f"Gave up after {self.settings.max_attempts} attempts: {exc.message}"
        except RowRejected as exc:
            rejected = verdicts.failure(
                job.row_number,
                exc.message,
                exception_type=exc.exception_type,
                request_id=exc.request_id,
            )
            await self._finish(rejected, job)
            return
        except (AuthError, NotFound) as exc:
            raise _Fatal(_fatal_user_error(exc)) from None
        except _Abandon:
            if not job.uncertain:  # a lost reply may have been processed: keep the claim
                self._unclaim(job)
            return
        else:
            if self.mode == Mode.ASYNC:
                if self.previous is not None and job.identity is not None:
                    self.previous.accepted(job.identity, request_id)  # the ledger first
                self.journal.mark_accepted(job.row_number, request_id)
                self._polls.add(
                    job.row_number,
                    request_id,
                    accepted=self.session.clock(),
                    uncertain=job.uncertain,
                    job=job,
                )
            else:
                outcome = verdicts.from_capture(job.row_number, result, uncertain=job.uncertain)
                await self._finish(outcome, job)
            return
        await self._finish(verdicts.failure(job.row_number, failure), job)

    # -- polling -------------------------------------------------------------------------

    async def _poller(self) -> None:
        limiter = self.session.limiter(Mode.ASYNC)
        while not self._stopping:
            item = await self._polls.next_due()
            await self._refresh_metrics()
            await limiter.acquire()
            try:
                task = await self._status(item.request_id)
            except RateLimited:
                self.session.note_429(Mode.ASYNC)
                self._repoll(item, self.session.clock())
                continue
            except AuthError as exc:
                raise _Fatal(exc) from None
            except ApiError as exc:
                # Transient trouble (or a status path that hiccups): try again later,
                # until the poll timeout.
                item.errors += 1
                self.session.counters.retries += 1
                log.debug("status of row %s failed: %s", item.row_number, exc)
                step = min(item.errors, MAX_POLL_BACKOFF_STEP)
                self._repoll(item, self.session.clock() + backoff(step, self.session.rng))
                continue
            outcome = verdicts.from_task(
                item.row_number, task, uncertain=item.uncertain, operation=self.operation
            )
            if outcome is not None:
                outcome.request_id = outcome.request_id or item.request_id
                await self._finish(outcome, item.job)
                continue
            self._polls.still_queued(item)
            self._repoll(item, self.session.clock())

    def _status(self, request_id: str) -> Awaitable[TaskStatus]:
        client = self.session.client
        if self.operation == "update":
            return client.update_status(request_id)
        return client.capture_status(request_id)

    def _repoll(self, item: PollItem[Job], not_before: float) -> None:
        if not self._polls.again(item, not_before):
            waited = self.session.clock() - item.accepted
            self._record(verdicts.pending(item.row_number, item.request_id, waited))
            self._job_done()

    async def _refresh_metrics(self) -> None:
        """Ask the queue how far behind it is, now and then, so polls land after the answer."""
        now = self.session.clock()
        if not self._metrics_enabled or now < self._metrics_next:
            return
        self._metrics_next = now + METRICS_EVERY
        await self.session.limiter(Mode.ASYNC).acquire()
        client = self.session.client
        try:
            metrics = await (
                client.update_metrics() if self.operation == "update" else client.capture_metrics()
            )
        except RateLimited:
            self.session.note_429(Mode.ASYNC)
            return
        except (AuthError, NotFound, RowRejected):
            # Metrics are an optimisation; a host without them (or keyed differently) is fine.
            self._metrics_enabled = False
            return
        except ApiError:
            return
        self._polls.queue_delay(metrics.max_delay_seconds)

    # -- finishing -----------------------------------------------------------------------

    async def _finish(self, outcome: RowOutcome, job: Job | None) -> None:
        if self.previous is not None and job is not None and job.identity is not None:
            self.previous.finished(job.identity, outcome, job.values)  # the ledger first
        if job is not None and job.share_item is not None and share_due(outcome):
            if outcome.created_opportunity_id:
                # Journal the capture first: a crash during the share then repeats only the share.
                outcome.extra[SHARE_STATUS] = SHARE_PENDING
                self.journal.mark_done(outcome)
                item = job.share_item(outcome.created_opportunity_id)
                try:
                    await share_created(self.session, outcome, item)
                except (AuthError, NotFound) as exc:
                    raise _Fatal(_fatal_user_error(exc)) from None
            else:
                outcome.extra[SHARE_STATUS] = NOT_SHARED_DUPLICATE
        self._record(outcome)
        self._job_done()

    def _record(self, outcome: RowOutcome, *, write: bool = True) -> None:
        # A Pending row stays `accepted` in the journal: the next run polls it, never re-sends.
        if write and outcome.status != RowStatus.PENDING:
            self.journal.mark_done(outcome)
        self.outcomes[outcome.row_number] = outcome
        self.session.progress.finished(outcome)

    def _job_done(self) -> None:
        self._outstanding -= 1
        self._check_done()

    def _check_done(self) -> None:
        if not self._producing and self._outstanding <= 0:
            self._all_done.set()


def _fatal_user_error(exc: ApiError) -> UserError:
    if isinstance(exc, UserError):
        return exc
    return UserError(
        f"LeadSquared answered 404 Not Found ({exc.message}): check LSQ_HOST / LSQ_ASYNC_HOST "
        "and any path overrides"
    )


async def _aiter(jobs: Iterable[Job] | AsyncIterator[Job]) -> AsyncIterator[Job]:
    if isinstance(jobs, AsyncIterator):
        async for job in jobs:
            yield job
    else:
        for job in jobs:
            yield job


def send_rows(
    jobs: Iterable[Job],
    resume: dict[int, JournalRow],
    *,
    settings: Settings,
    journal: Journal,
    mode: Mode,
    operation: Operation,
    counters: Counters,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    cancel: threading.Event | None = None,
    previous: PreviousImports | None = None,
) -> dict[int, RowOutcome]:
    """Send these jobs with one session and one pool; every outcome also lands in the journal."""

    async def send() -> dict[int, RowOutcome]:
        async with Session(
            settings, transport=transport, progress=progress, counters=counters
        ) as session:
            pool = ImportPool(
                session, journal, mode=mode, operation=operation, cancel=cancel, previous=previous
            )
            return await pool.run(jobs, resume)

    return asyncio.run(send())
