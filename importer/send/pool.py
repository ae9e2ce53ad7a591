"""The worker pool: sends rows through the session's limiter, polls the Status API when an
answer is likely, and writes every step to the journal before acting on it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, TypeVar

import httpx

from importer.core.config import Mode, Settings
from importer.core.conventions import SHARE_STATUS
from importer.core.errors import (
    ApiError,
    AuthError,
    DailyLimitReached,
    ImportCancelled,
    NotFound,
    RateLimited,
    RowRejected,
    TransientError,
    UserError,
)
from importer.core.outcomes import RowOutcome, RowStatus
from importer.core.progress import Counters, Progress
from importer.io.journal import Journal, JournalRow, RowState
from importer.lsq import verdicts
from importer.lsq.responses import CaptureResult, TaskStatus
from importer.send.confirm import Confirmer, Found, Sent
from importer.send.polling import PollItem, PollSchedule
from importer.send.previous import Decision, PreviousImports, Verdict
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
# After a lost answer, a sync capture may still be finishing at LeadSquared: wait this
# long (at least) before reading it back.
READ_BACK_SETTLE = 2.0
GAVE_UP = (
    "Gave up after {n} attempts whose answers were lost; reading back found no opportunity, "
    "so it was not created: run `lsq-import retry` on this workbook to send it again"
)
HELD_ELSEWHERE = (
    "Not sent: another lsq-import was sending this same row and still held it; "
    "run the same command again once it has finished"
)
THROTTLED = "LeadSquared kept answering 429 (too many calls)"
R = TypeVar("R")


@dataclass(slots=True)
class Job:
    """One row to send: its body, and what its share step needs (if any)."""

    row_number: int
    body: dict[str, Any]
    share_item: Callable[[str], dict[str, Any]] | None = None
    uncertain: bool = False  # an earlier attempt may have been processed: read back first
    identity: str | None = None  # the row's identity in the account ledger
    values: dict[str, str] = field(default_factory=dict)  # sent values by target
    sent_at: float | None = None  # wall clock of the first attempt (the read-back looks after)
    lead_id: str | None = None  # the lead an earlier attempt or read-back found


class _Fatal(Exception):
    """Internal: carries the error that must stop the whole run."""


class _Abandon(Exception):
    """Internal: a stop came before this row's next attempt; it is left for the next run."""


class _ReplyLost(Exception):
    """Internal: the answer to a send was lost; it may have been processed."""


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
        match_fields: Sequence[str] | None = None,
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
        self.capped: DailyLimitReached | None = None  # LSQ_DAILY_LIMIT reached: a clean stop
        self._capped = asyncio.Event()
        self._in_flight = 0  # rows whose call is under way right now
        # SQLite (and PostgreSQL) calls wait on other processes' locks: one thread of their
        # own keeps them in order and off the event loop, so replies and a cancel stay prompt.
        self._state_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="state")
        self.confirmer = Confirmer(
            session,
            match_fields=match_fields,
            known_lead=self._known_lead if previous is not None else None,
            remember_lead=self._remember_lead if previous is not None else None,
        )
        self.read_backs = 0  # rows read back before a second send (or to settle them)

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
        tasks.append(asyncio.create_task(self._stop_at_cap()))
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
            self._state_thread.shutdown(wait=True)
        return self.outcomes

    async def _state(self, call: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """A journal or ledger call, on the state thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._state_thread, partial(call, *args, **kwargs))

    # -- producing -----------------------------------------------------------------

    async def _produce(
        self,
        jobs: Iterable[Job] | AsyncIterator[Job],
        resume: dict[int, JournalRow],
        queue: asyncio.Queue[Job | None],
    ) -> None:
        probed = False
        async for job in self._answered_from_ledger(_aiter(jobs), resume):
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
            if previous is not None and previous.maybe_sent:
                job.uncertain = True
                job.sent_at = previous.updated_at
            if self._stopping:
                break
            if await self._answered_by_ledger(job):
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

    async def _answered_from_ledger(
        self, jobs: AsyncIterator[Job], resume: dict[int, JournalRow]
    ) -> AsyncIterator[Job]:
        """The jobs to work on; new rows the account already has are answered here, in
        batches (one read per batch, not a claim per row: a re-dropped file costs little).
        Rows this run's journal knows take the usual path (their journal says more)."""
        batch: list[Job] = []
        async for job in jobs:
            batch.append(job)
            if len(batch) >= JOB_BATCH:
                for left in await self._answer_done(batch, resume):
                    yield left
                batch = []
        for left in await self._answer_done(batch, resume):
            yield left

    async def _answer_done(self, batch: list[Job], resume: dict[int, JournalRow]) -> list[Job]:
        if self.previous is None or not batch:
            return batch
        fresh = [job for job in batch if job.row_number not in resume and job.identity]
        identities = [job.identity for job in fresh if job.identity is not None]
        done = await self._state(self.previous.already_done, identities)
        left = []
        for job in batch:
            entry = done.get(job.identity) if job.identity is not None else None
            if entry is None or job.row_number in resume:
                left.append(job)
                continue
            self._outstanding += 1
            outcome = self.previous.known(entry, job.row_number, job.values)
            await self._state(self._record, outcome)
            self._job_done()
        return left

    async def _answered_by_ledger(self, job: Job) -> bool:
        """Ask the account ledger first; True when the row must not be sent (now)."""
        if self.previous is None or job.identity is None:
            return False
        decision = await self._state(self.previous.decide, job.identity, job.row_number, job.values)
        if decision.verdict == Verdict.WAIT:
            self._waiting.append(asyncio.create_task(self._wait_turn(job)))
            return True
        return await self._route(job, decision)

    async def _route(self, job: Job, decision: Decision) -> bool:
        """Act on the ledger's answer; True when nothing is to be sent."""
        if decision.verdict == Verdict.KNOWN and decision.outcome is not None:
            await self._state(self._record, decision.outcome)  # the ledger keeps its origin
            self._job_done()
            return True
        if decision.verdict == Verdict.POLL and decision.request_id:
            await self._state(self.journal.mark_sending, job.row_number)
            await self._state(self.journal.mark_accepted, job.row_number, decision.request_id)
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
            job.sent_at = decision.sent_at or job.sent_at
            job.lead_id = decision.lead_id
        return False

    async def _wait_turn(self, job: Job) -> None:
        """Another run (or an earlier row of this file) is sending the same row: wait for it,
        never longer than a lease and never past a stop."""
        assert self.previous is not None and job.identity is not None
        deadline = self.session.clock() + self.settings.lease_seconds
        while True:
            await self.session.sleep(LEDGER_RECHECK_SECONDS)
            if self._stopping:
                self._job_done()  # left for the next run: NotSent
                return
            decision = await self._state(
                self.previous.decide, job.identity, job.row_number, job.values
            )
            if decision.verdict != Verdict.WAIT:
                break
            if decision.expires_at is not None and self.session.clock() >= deadline:
                self._record(verdicts.not_sent(job.row_number, HELD_ELSEWHERE))
                self._job_done()
                return
        if not await self._route(job, decision):
            await self._send(job)

    async def _worker(self, queue: asyncio.Queue[Job | None]) -> None:
        while (job := await queue.get()) is not None:
            if self._stopping:
                await self._unclaim(job)
                continue
            await self._send(job)

    async def _watch_cancel(self, cancel: threading.Event) -> None:
        """A stop lets the calls under way end (their answers are kept), then stops the run."""
        while not cancel.is_set():
            await asyncio.sleep(CANCEL_CHECK_SECONDS)  # real time: the event is set by a thread
        self._stopping = True
        self.session.progress.stopping(self._in_flight)
        deadline = self.session.clock() + STOP_GRACE_SECONDS
        while self._in_flight and self.session.clock() < deadline:
            await self.session.sleep(CANCEL_CHECK_SECONDS)
        raise ImportCancelled("the import was stopped")

    def _cap(self, reached: DailyLimitReached) -> None:
        """The day's calls are used up: send nothing new; the run ends once calls under way do."""
        if self.capped is None:
            self.capped = reached
            self._stopping = True
            self._capped.set()

    async def _stop_at_cap(self) -> None:
        await self._capped.wait()
        deadline = self.session.clock() + STOP_GRACE_SECONDS
        while self._in_flight and self.session.clock() < deadline:
            await self.session.sleep(CANCEL_CHECK_SECONDS)
        assert self.capped is not None
        raise self.capped

    async def _unclaim(self, job: Job) -> None:
        await self._state(self.journal.mark_unsent, job.row_number)
        if self.previous is not None and job.identity is not None:
            await self._state(self.previous.unclaim, job.identity, job.row_number)

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
        try:
            await self._send_until_settled(job)
        except DailyLimitReached as reached:
            self._cap(reached)
            if not job.uncertain:  # nothing of it went out: it is sent by the next run
                await self._unclaim(job)

    async def _send_until_settled(self, job: Job) -> None:
        lost = 0  # attempts whose answer was lost (the row may be in LeadSquared)
        while True:
            if job.uncertain and self._reads_back:
                settled = await self._read_back(job)
                if settled:
                    return
            if lost >= self.settings.max_attempts:
                await self._finish(verdicts.failure(job.row_number, GAVE_UP.format(n=lost)), job)
                return
            if self._stopping:
                await self._unclaim(job)
                return
            try:
                answer = await self._attempt(job)
            except _Abandon:
                await self._unclaim(job)
                return
            except _ReplyLost as lost_reply:
                lost += 1
                self.session.counters.retries += 1  # read back, then perhaps sent again
                job.uncertain = True
                await self._state(self.journal.mark_uncertain, job.row_number)
                log.debug("row %s: %s", job.row_number, lost_reply.args[0])
                if not self._reads_back:
                    # An update sent twice sets the same values: sending again is safe.
                    await self.session.sleep(backoff(lost, self.session.rng))
                    continue
                # Let a capture still being processed finish before looking for it.
                await self.session.sleep(max(READ_BACK_SETTLE, backoff(lost, self.session.rng)))
                continue
            if answer is not None:
                await self._finish(answer, job)
            return

    @property
    def _reads_back(self) -> bool:
        return self.operation == "capture"

    async def _attempt(self, job: Job) -> RowOutcome | None:
        """One send (retried inside while no answer can hide a processed request).

        Returns the row's outcome, or None when it was accepted and is now polled.
        """
        try:
            answer = await self._call(job)
        except TransientError as exc:
            if exc.uncertain:
                raise _ReplyLost(exc.message) from None
            tries = self.settings.max_attempts
            return verdicts.failure(
                job.row_number, f"Gave up after {tries} attempts: {exc.message}"
            )
        except RateLimited:
            return verdicts.failure(job.row_number, THROTTLED)
        except RowRejected as exc:
            return verdicts.failure(
                job.row_number,
                exc.message,
                exception_type=exc.exception_type,
                request_id=exc.request_id,
            )
        except (AuthError, NotFound) as exc:
            raise _Fatal(_fatal_user_error(exc)) from None
        if isinstance(answer, CaptureResult):
            return verdicts.from_capture(job.row_number, answer, uncertain=job.uncertain)
        if self.previous is not None and job.identity is not None:
            await self._state(self.previous.accepted, job.identity, answer)  # the ledger first
        await self._state(self.journal.mark_accepted, job.row_number, answer)
        self._polls.add(
            job.row_number, answer, accepted=self.session.clock(), uncertain=job.uncertain, job=job
        )
        return None

    async def _call(self, job: Job) -> str | CaptureResult:
        """The capture (or update) call: a RequestID (async) or LeadSquared's verdict (sync).

        The journal and the ledger learn the row is going out once the limiter gave it a
        slot, just before the request leaves; a stop between two attempts abandons the row.
        """
        marked = False

        async def going_out() -> None:
            nonlocal marked
            if not marked:
                marked = True
                await self._going_out(job)

        async def send() -> str | CaptureResult:
            await going_out()
            client = self.session.client
            if self.mode == Mode.SYNC:
                return await client.capture_sync(job.body)
            if self.operation == "update":
                return await client.update_async(job.body)
            return await client.capture_async(job.body)

        def before_attempt() -> None:
            if self._stopping:
                raise _Abandon  # a stop came between attempts: this row waits for the next run

        hooks = RetryHooks(before_attempt=before_attempt)
        return await self.session.call(send, window=self.mode, hooks=hooks, retry_uncertain=False)

    async def _going_out(self, job: Job) -> None:
        """Written down before the request leaves: from now on it may be in LeadSquared."""
        await self._state(self.journal.mark_sending, job.row_number, uncertain=job.uncertain)
        if self.previous is not None and job.identity is not None:
            first = await self._state(self.previous.sending, job.identity)
            job.sent_at = job.sent_at or first
        job.sent_at = job.sent_at or time.time()

    async def _read_back(self, job: Job) -> bool:
        """Look for the row in LeadSquared before sending it again; True when it is settled."""
        self.read_backs += 1
        queued = self.mode == Mode.ASYNC
        read = await self.confirmer.read_back(
            job.row_number,
            job.body,
            job.sent_at,
            lead_id=job.lead_id,
            queue_limit=self.settings.poll_timeout if queued else None,
        )
        if read.found == Found.YES and read.outcome is not None:
            await self._finish(read.outcome, job)
            return True
        if read.found == Found.UNDECIDED:
            await self._unconfirmed(job, read.reason)
            return True
        job.lead_id = read.lead_id or job.lead_id
        return False

    async def _unconfirmed(self, job: Job, reason: str) -> None:
        """Nothing can tell whether it is in LeadSquared: never send it again now."""
        if self.previous is not None and job.identity is not None:
            await self._state(self.previous.still_uncertain, job.identity)
        self._record(verdicts.unconfirmed(job.row_number, reason))  # the journal keeps it uncertain
        self._job_done()

    async def _known_lead(self, search_by: str, value: str) -> str | None:
        assert self.previous is not None
        return await self._state(self.previous.known_lead, search_by, value)

    async def _remember_lead(self, search_by: str, value: str, lead_id: str) -> None:
        assert self.previous is not None
        await self._state(self.previous.remember_lead, search_by, value, lead_id)

    # -- polling -------------------------------------------------------------------------

    async def _poller(self) -> None:
        limiter = self.session.limiter(Mode.ASYNC)
        while not self._stopping:
            item = await self._polls.next_due()
            try:
                await self._refresh_metrics()
                await limiter.acquire()
            except DailyLimitReached as reached:  # the row stays accepted: polled next run
                self._polls.again(item, self.session.clock())
                self._cap(reached)
                return
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
            # The ledger first: another run must not send what LeadSquared has.
            await self._state(self.previous.finished, job.identity, outcome, job.values)
            await self._remember_lead_of(job, outcome)
        if job is not None and job.share_item is not None and share_due(outcome):
            if outcome.created_opportunity_id:
                # Journal the capture first: a crash during the share then repeats only the share.
                outcome.extra[SHARE_STATUS] = SHARE_PENDING
                await self._state(self.journal.mark_done, outcome)
                item = job.share_item(outcome.created_opportunity_id)
                try:
                    await share_created(self.session, outcome, item)
                except (AuthError, NotFound) as exc:
                    raise _Fatal(_fatal_user_error(exc)) from None
                except DailyLimitReached as reached:  # ShareStatus stays Pending: shared next run
                    self._cap(reached)
            else:
                outcome.extra[SHARE_STATUS] = NOT_SHARED_DUPLICATE
        await self._state(self._record, outcome)
        self._job_done()

    async def _remember_lead_of(self, job: Job, outcome: RowOutcome) -> None:
        """The lead a capture landed on: a later read-back of its search_by value starts there."""
        if self.operation != "capture" or not outcome.related_prospect_id:
            return
        sent = Sent.of(job.body)
        if sent.search_by and sent.search_value:
            await self._remember_lead(
                sent.search_by, sent.search_value, outcome.related_prospect_id
            )

    def _record(self, outcome: RowOutcome, *, write: bool = True) -> None:
        # A Pending row stays `accepted` (or uncertain) in the journal: the next run polls or
        # reads it back, never re-sends it blindly; a NotSent row stays to be sent.
        if write and outcome.status not in (RowStatus.PENDING, RowStatus.NOT_SENT):
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
    """The jobs in order; a plain iterator (which reads and checks the file chunk by chunk)
    is advanced on a thread, so the event loop never waits for the disk or pandas."""
    if isinstance(jobs, AsyncIterator):
        async for job in jobs:
            yield job
        return
    iterator = iter(jobs)
    while True:
        batch = await asyncio.to_thread(_take, iterator, JOB_BATCH)
        for job in batch:
            yield job
        if len(batch) < JOB_BATCH:
            return


JOB_BATCH = 64  # jobs taken from the file per trip to the reading thread


def _take(iterator: Iterator[Job], count: int) -> list[Job]:
    return list(itertools.islice(iterator, count))


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
    match_fields: Sequence[str] | None = None,
) -> dict[int, RowOutcome]:
    """Send these jobs with one session and one pool; every outcome also lands in the journal."""

    async def send() -> dict[int, RowOutcome]:
        async with Session(
            settings, transport=transport, progress=progress, counters=counters
        ) as session:
            pool = ImportPool(
                session,
                journal,
                mode=mode,
                operation=operation,
                cancel=cancel,
                previous=previous,
                match_fields=match_fields,
            )
            return await pool.run(jobs, resume)

    return asyncio.run(send())
