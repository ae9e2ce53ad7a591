"""The worker pool: sends rows through one shared limiter, retries what may succeed later,
polls the Status API when an answer is likely, and writes every step to the journal first.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from importer.core.config import Settings
from importer.core.constants import SHARE_ACCESS_EDIT
from importer.core.errors import (
    ApiError,
    AuthError,
    NotFound,
    RateLimited,
    RowRejected,
    TransientError,
    UserError,
)
from importer.core.outcomes import RowOutcome, RowStatus
from importer.io.journal import Journal, JournalRow, RowState
from importer.lsq import verdicts as verdict
from importer.lsq.client import LeadSquaredClient
from importer.send.limiter import SlidingWindowLimiter

log = logging.getLogger("importer.pool")

Mode = Literal["async", "sync"]
T = TypeVar("T")
Operation = Literal["capture", "update"]
# Status answers are polled no sooner than this after acceptance, and then at least this far apart.
MIN_POLL_DELAY = 0.5
INITIAL_POLL_DELAY = 2.0
METRICS_EVERY = 60.0
MAX_429_PER_ROW = 50
SHARE_PENDING = "Pending"


@dataclass(slots=True)
class Job:
    """One row to send: its body, and what its share step needs (if any)."""

    row_number: int
    body: dict
    share_item: Callable[[str], dict] | None = None
    uncertain: bool = False  # an earlier attempt may have been processed


class Progress(Protocol):
    """What the pool tells whoever watches it (tqdm in the CLI, a logger in a scheduler)."""

    def sent(self, row_number: int) -> None: ...
    def finished(self, outcome: RowOutcome) -> None: ...
    def rate_limited(self) -> None: ...


class SilentProgress:
    def sent(self, row_number: int) -> None:
        pass

    def finished(self, outcome: RowOutcome) -> None:
        pass

    def rate_limited(self) -> None:
        pass


@dataclass(slots=True)
class Counters:
    api_calls: int = 0
    rate_limited: int = 0
    retries: int = 0


@dataclass(order=True, slots=True)
class _Poll:
    due: float
    seq: int
    row_number: int = field(compare=False)
    request_id: str = field(compare=False)
    accepted: float = field(compare=False)
    uncertain: bool = field(compare=False)
    job: Job | None = field(compare=False)
    errors: int = field(compare=False, default=0)


class Fatal(Exception):
    """Internal: carries the error that must stop the whole run."""


class ImportPool:
    """Runs one import: every job ends with exactly one outcome in the journal."""

    def __init__(
        self,
        client: LeadSquaredClient,
        journal: Journal,
        settings: Settings,
        *,
        mode: Mode = "async",
        operation: Operation = "capture",
        progress: Progress | None = None,
        counters: Counters | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.settings = settings
        self.mode = mode
        self.operation = operation
        self.progress = progress or SilentProgress()
        self.counters = counters or Counters()
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.async_limiter = SlidingWindowLimiter(settings.rate, clock=clock, sleep=sleep)
        self.sync_limiter = SlidingWindowLimiter(settings.rate, clock=clock, sleep=sleep)
        self.outcomes: dict[int, RowOutcome] = {}
        self._polls: list[_Poll] = []
        self._seq = itertools.count()
        self._poll_wakeup = asyncio.Event()
        self._outstanding = 0
        self._producing = True
        self._all_done = asyncio.Event()
        self._delay_estimate = INITIAL_POLL_DELAY
        self._metrics_enabled = True
        self._metrics_next = 0.0

    # -- public ------------------------------------------------------------------

    async def run(
        self, jobs: Iterable[Job] | AsyncIterator[Job], resume: dict[int, JournalRow]
    ) -> dict[int, RowOutcome]:
        """Send every job not already finished; returns the outcome of every job."""
        queue: asyncio.Queue[Job | None] = asyncio.Queue(maxsize=self.settings.workers * 4)
        workers = [asyncio.create_task(self._worker(queue)) for _ in range(self.settings.workers)]
        pollers = []
        if self.mode == "async":
            pollers = [
                asyncio.create_task(self._poller())
                for _ in range(max(1, self.settings.workers // 2))
            ]
        producer = asyncio.create_task(self._produce(jobs, resume, queue))
        tasks = [producer, *workers, *pollers]
        done_wait = asyncio.create_task(self._all_done.wait())
        waiting: set[asyncio.Task] = {done_wait, *tasks}
        try:
            while not done_wait.done():
                finished, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    if task is not done_wait and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
        except Fatal as stop:
            raise stop.args[0] from None
        finally:
            for task in [done_wait, *tasks]:
                task.cancel()
            await asyncio.gather(done_wait, *tasks, return_exceptions=True)
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
                    and previous.outcome.extra.get("ShareStatus") == SHARE_PENDING
                ):
                    self._outstanding += 1  # the capture is done; its share was cut short
                    await self._finish(previous.outcome, job)
                else:
                    self._record(previous.outcome, write=False)
                continue
            self._outstanding += 1
            if previous is not None and previous.state == RowState.ACCEPTED and previous.request_id:
                waited = time.time() - (previous.accepted_at or time.time())
                self._schedule_poll(
                    job.row_number,
                    previous.request_id,
                    # Poll soon, and give this run its own --poll-timeout from now on.
                    accepted=self.clock() - min(max(0.0, waited), self._delay_estimate),
                    uncertain=previous.uncertain,
                    job=job,
                )
                continue
            uncertain = previous is not None and (
                previous.uncertain or previous.state == RowState.SENDING
            )
            if not probed:
                # The first call goes alone: wrong keys then cost one call, not one per worker.
                await self._send(job, uncertain=uncertain)
                probed = True
            else:
                job.uncertain = uncertain
                await queue.put(job)
        self._producing = False
        for _ in range(self.settings.workers):
            await queue.put(None)
        self._check_done()

    async def _worker(self, queue: asyncio.Queue[Job | None]) -> None:
        while (job := await queue.get()) is not None:
            await self._send(job, uncertain=job.uncertain)

    # -- sending ---------------------------------------------------------------------

    async def _send(self, job: Job, *, uncertain: bool) -> None:
        limiter = self.async_limiter if self.mode == "async" else self.sync_limiter
        attempts = 0
        throttled = 0
        last_error = ""
        self.progress.sent(job.row_number)
        while True:
            self.journal.mark_sending(job.row_number, uncertain=uncertain)
            await limiter.acquire()
            try:
                if self.mode == "async":
                    request_id = await self._call_async(job.body)
                    self.journal.mark_accepted(job.row_number, request_id)
                    self._schedule_poll(
                        job.row_number,
                        request_id,
                        accepted=self.clock(),
                        uncertain=uncertain,
                        job=job,
                    )
                    return
                result = await self.client.capture_sync(job.body)
                outcome = verdict.from_capture(job.row_number, result, uncertain=uncertain)
                await self._finish(outcome, job)
                return
            except RateLimited:
                self._on_429(limiter)
                throttled += 1
                if throttled <= MAX_429_PER_ROW:
                    continue
                last_error = "LeadSquared kept answering 429 (too many calls)"
            except TransientError as exc:
                last_error = exc.message
                if exc.uncertain:
                    uncertain = True
                    self.journal.mark_uncertain(job.row_number)
                attempts += 1
                if attempts < self.settings.max_attempts:
                    self.counters.retries += 1
                    await self.sleep(self._backoff(attempts))
                    continue
            except RowRejected as exc:
                await self._finish(
                    verdict.failure(
                        job.row_number,
                        exc.message,
                        exception_type=exc.exception_type,
                        request_id=exc.request_id,
                    ),
                    job,
                )
                return
            except (AuthError, NotFound) as exc:
                raise Fatal(_fatal_user_error(exc)) from None
            await self._finish(
                verdict.failure(job.row_number, f"Gave up after {attempts} attempts: {last_error}"),
                job,
            )
            return

    async def _call_async(self, body: dict) -> str:
        if self.operation == "update":
            return await self.client.update_async(body)
        return await self.client.capture_async(body)

    def _backoff(self, attempt: int) -> float:
        return backoff(attempt, self.rng)

    def _on_429(self, limiter: SlidingWindowLimiter) -> None:
        limiter.on_rate_limited()
        self.counters.rate_limited += 1
        self.counters.retries += 1
        self.progress.rate_limited()

    # -- polling -------------------------------------------------------------------------

    def _schedule_poll(
        self, row_number: int, request_id: str, *, accepted: float, uncertain: bool, job: Job | None
    ) -> None:
        due = accepted + self._delay_estimate
        heapq.heappush(
            self._polls,
            _Poll(due, next(self._seq), row_number, request_id, accepted, uncertain, job),
        )
        self._poll_wakeup.set()

    async def _next_poll(self) -> _Poll:
        while True:
            if self._polls:
                head = self._polls[0]
                # Dues follow the current estimate: one slow answer pushes all later polls back.
                due = max(head.due, head.accepted + self._delay_estimate)
                due = min(due, head.accepted + self.settings.poll_timeout)  # one last look
                wait = due - self.clock()
                if wait <= 0:
                    return heapq.heappop(self._polls)
            else:
                wait = None
            self._poll_wakeup.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # lands as the event is set, and Ctrl-C would then never stop the run.
            try:
                async with asyncio.timeout(wait):
                    await self._poll_wakeup.wait()
            except TimeoutError:
                pass

    async def _poller(self) -> None:
        while True:
            item = await self._next_poll()
            await self._refresh_metrics()
            await self.async_limiter.acquire()
            try:
                task = await (
                    self.client.update_status(item.request_id)
                    if self.operation == "update"
                    else self.client.capture_status(item.request_id)
                )
            except RateLimited:
                self._on_429(self.async_limiter)
                self._repoll(item, self.clock())
                continue
            except AuthError as exc:
                raise Fatal(exc) from None
            except ApiError as exc:
                # Transient trouble (or a status path that hiccups): try again later,
                # until the poll timeout.
                item.errors += 1
                self.counters.retries += 1
                log.debug("status of row %s failed: %s", item.row_number, exc)
                self._repoll(item, self.clock() + self._backoff(min(item.errors, 6)))
                continue
            now = self.clock()
            outcome = verdict.from_task(
                item.row_number, task, uncertain=item.uncertain, operation=self.operation
            )
            if outcome is not None:
                outcome.request_id = outcome.request_id or item.request_id
                await self._finish(outcome, item.job)
                continue
            waited = now - item.accepted
            self._delay_estimate = min(60.0, max(self._delay_estimate, waited) * 1.5)
            self._repoll(item, now)

    def _repoll(self, item: _Poll, not_before: float) -> None:
        now = self.clock()
        waited = now - item.accepted
        if waited >= self.settings.poll_timeout:
            self._record(verdict.pending(item.row_number, item.request_id, waited))
            self._job_done()
            return
        item.due = max(not_before, now + MIN_POLL_DELAY)
        item.seq = next(self._seq)
        heapq.heappush(self._polls, item)
        self._poll_wakeup.set()

    async def _refresh_metrics(self) -> None:
        """Ask the queue how far behind it is, now and then, so polls land after the answer."""
        now = self.clock()
        if not self._metrics_enabled or now < self._metrics_next:
            return
        self._metrics_next = now + METRICS_EVERY
        await self.async_limiter.acquire()
        try:
            metrics = await (
                self.client.update_metrics()
                if self.operation == "update"
                else self.client.capture_metrics()
            )
        except RateLimited:
            self._on_429(self.async_limiter)
            return
        except (AuthError, NotFound, RowRejected):
            # Metrics are an optimisation; a host without them (or keyed differently) is fine.
            self._metrics_enabled = False
            return
        except ApiError:
            return
        if metrics.max_delay_seconds > 0:
            self._delay_estimate = min(
                60.0, max(self._delay_estimate, metrics.max_delay_seconds * 1.1)
            )

    # -- finishing -----------------------------------------------------------------------

    async def _finish(self, outcome: RowOutcome, job: Job | None) -> None:
        if job is not None and job.share_item is not None and _share_due(outcome):
            if outcome.created_opportunity_id:
                # Journal the capture first: a crash during the share then repeats only the share.
                outcome.extra["ShareStatus"] = SHARE_PENDING
                self.journal.mark_done(outcome)
                await self._share(outcome, job)
            else:
                outcome.extra["ShareStatus"] = (
                    "Not shared: LeadSquared kept an existing opportunity (duplicate)"
                )
        self._record(outcome)
        self._job_done()

    async def _share(self, outcome: RowOutcome, job: Job) -> None:
        """Share the new opportunity (sync window); a failed share makes the row PartialSuccess."""
        assert job.share_item is not None
        item = job.share_item(outcome.created_opportunity_id or "")
        outcome.extra["SharedWith"] = str(item.get("UserId", ""))
        failure: str | None = None
        try:
            await call_paced(
                lambda: self.client.share([item]),
                self.sync_limiter,
                self.counters,
                max_attempts=self.settings.max_attempts,
                rng=self.rng,
                sleep=self.sleep,
            )
        except (AuthError, NotFound) as exc:
            raise Fatal(_fatal_user_error(exc)) from None
        except ApiError as exc:
            failure = exc.message
        if failure is None:
            access = "edit" if item.get("AccessType") == SHARE_ACCESS_EDIT else "read"
            outcome.extra["ShareStatus"] = f"Shared ({access})"
        else:
            outcome.extra["ShareStatus"] = f"Failure: {failure}"
            outcome.status = RowStatus.PARTIAL_SUCCESS
            outcome.message = f"{outcome.message}; but sharing failed: {failure}"

    def _record(self, outcome: RowOutcome, *, write: bool = True) -> None:
        # A Pending row stays `accepted` in the journal: the next run polls it, never re-sends.
        if write and outcome.status != RowStatus.PENDING:
            self.journal.mark_done(outcome)
        self.outcomes[outcome.row_number] = outcome
        self.progress.finished(outcome)

    def _job_done(self) -> None:
        self._outstanding -= 1
        self._check_done()

    def _check_done(self) -> None:
        if not self._producing and self._outstanding <= 0:
            self._all_done.set()


def backoff(attempt: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter, between 0.25 s and 30 s."""
    return max(0.25, rng.uniform(0, min(30.0, 0.5 * 2**attempt)))


async def call_paced(
    send: Callable[[], Awaitable[T]],
    limiter: SlidingWindowLimiter,
    counters: Counters,
    *,
    max_attempts: int,
    rng: random.Random,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    max_throttled: int = MAX_429_PER_ROW,
) -> T:
    """One call through the limiter, for calls outside the row pipeline (share, read-back, status).

    A 429 waits out the window and tries again; a transient error backs off and tries again,
    up to `max_attempts`; the last failure, and every other error, is raised.
    """
    attempts = throttled = 0
    while True:
        await limiter.acquire()
        try:
            return await send()
        except RateLimited:
            limiter.on_rate_limited()
            counters.rate_limited += 1
            throttled += 1
            if throttled > max_throttled:
                raise
            counters.retries += 1
        except TransientError:
            attempts += 1
            if attempts >= max_attempts:
                raise
            counters.retries += 1
            await sleep(backoff(attempts, rng))


def _share_due(outcome: RowOutcome) -> bool:
    """A Success whose share has not been done (or was cut short by a crash)."""
    return outcome.status == RowStatus.SUCCESS and outcome.extra.get("ShareStatus") in (
        None,
        SHARE_PENDING,
    )


def _fatal_user_error(exc: ApiError) -> UserError:
    if isinstance(exc, UserError):
        return exc
    return UserError(
        f"LeadSquared answered 404 Not Found ({exc.message}): check LSQ_HOST / LSQ_ASYNC_HOST "
        "and any path overrides"
    )


async def _aiter(jobs: Iterable[Job] | AsyncIterator[Job]) -> AsyncIterator[Job]:
    if hasattr(jobs, "__aiter__"):
        async for job in jobs:  # type: ignore[union-attr]
            yield job
    else:
        for job in jobs:  # type: ignore[union-attr]
            yield job
