"""One rate budget per LeadSquared account, shared by every lsq-import process.

LeadSquared counts calls per key, not per process: a manual `run` beside the nightly
`watch` must stay inside one limit together (CONTRACT 8). Without LSQ_STATE_URL the
windows live in one SQLite file under `settings.state_home` (`SharedBudget`, one
machine); with it, in PostgreSQL (`PostgresBudget`, every machine). Both count each
call against the account's LSQ_DAILY_LIMIT too (`daily`).
"""

from __future__ import annotations

import time

from importer.core.config import Mode, Settings
from importer.io.ledger import account_of_settings
from importer.io.state import BUDGET_FILE, PostgresStore, budget_path, open_state
from importer.send.budget.daily import DailyCap, DailyUsage, resets_at, utc_day
from importer.send.budget.postgres import PostgresBudget
from importer.send.budget.postgres import read_used_today as _pg_used_today
from importer.send.budget.sqlite import SharedBudget
from importer.send.budget.sqlite import read_used_today as _file_used_today
from importer.send.budget.window import KEEP_SECONDS, Budget, Clock, LocalBudget, window_id

__all__ = [
    "BUDGET_FILE",
    "KEEP_SECONDS",
    "Budget",
    "DailyCap",
    "DailyUsage",
    "LocalBudget",
    "PostgresBudget",
    "SharedBudget",
    "account_of",
    "budget_for",
    "daily_usage",
    "window_id",
]


def account_of(settings: Settings) -> str | None:
    """The account these settings reach, as the ledger names it (host + access key); both
    rate windows of a Settings belong to it. None without a host or an access key."""
    if not (settings.host or settings.async_host) or not settings.access_key:
        return None
    return account_of_settings(settings)


def budget_for(
    settings: Settings,
    kind: Mode,
    *,
    shared: bool = True,
    clock: Clock = time.monotonic,
    store: PostgresStore | None = None,
) -> Budget:
    """The budget a limiter of this kind consults: the account's shared window when it can be.

    The sync window belongs to (host, access key), the async one to (async host, x-api-key),
    as LeadSquared counts them. Without a host or key there is no account to share. With
    LSQ_STATE_URL the window is in PostgreSQL: `store` if given (the caller closes it),
    else one opened now, so an unusable database stops the command before any call.
    """
    if kind == Mode.SYNC:
        host, key = settings.host, settings.access_key
    else:
        host, key = settings.async_host, settings.api_key
    if not shared or not host or not key:
        return LocalBudget(clock)  # `clock` paces this process only (a test's fake clock)
    account = account_of(settings)
    # every call is counted, a limit or not: one set later knows today's calls already made
    daily = DailyCap(account, settings.daily_limit or 0) if account else None
    window = window_id(kind, host, key)
    if settings.state_url:
        owned = store is None
        store = store or open_state(settings)
        assert store is not None
        return PostgresBudget(store, window, daily=daily, owns_store=owned)
    return SharedBudget(budget_path(settings.state_home), window, daily=daily)


def daily_usage(
    settings: Settings, *, store: PostgresStore | None = None, clock: Clock = time.time
) -> DailyUsage:
    """Today's (UTC) calls for the account of `settings`, and what LSQ_DAILY_LIMIT leaves.

    Read from where the budget counts them: `store` or LSQ_STATE_URL, else the budget file.
    """
    now = clock()
    account = account_of(settings)
    used = 0
    if account is not None and settings.state_url:
        opened = store or open_state(settings)
        assert opened is not None
        try:
            used = _pg_used_today(opened, account, now)
        finally:
            if store is None:
                opened.close()
    elif account is not None:
        used = _file_used_today(budget_path(settings.state_home), account, now)
    return DailyUsage(settings.daily_limit, used, utc_day(now), resets_at(now))
