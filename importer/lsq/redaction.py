"""Keep LeadSquared keys out of every log line and exception message.

The keys travel in the query string (`accessKey`, `secretKey`) and in the
`x-api-key` header, so any URL or header dump is a leak waiting to happen.
Patterns catch the keys by position; literal secrets catch them anywhere else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
# Shorter strings cannot be real keys; replacing them would garble every message.
_MIN_SECRET_LENGTH = 4

# accessKey=...&secretKey=... in a URL, also percent-encoded (`accessKey%3D...`).
_QUERY_PARAM = re.compile(r"(?i)\b((?:access|secret)key)(=|%3D)([^&\s'\"#<>]+)")
# "accessKey": "..." in a JSON or dict dump.
_KEY_VALUE = re.compile(r"(?i)([\"']?(?:access|secret)key[\"']?\s*:\s*[\"'])([^\"']+)")
# x-api-key: ..., 'x-api-key': '...', (b'x-api-key', b'...'), x-api-key=...
_API_KEY_HEADER = re.compile(r"(?i)(x-api-key[\"']?\s*[:=,]\s*b?[\"']?)([^\"'\s,;)}\]]+)")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every key value replaced by `***`."""
    text = _QUERY_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _KEY_VALUE.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _API_KEY_HEADER.sub(lambda m: f"{m.group(1)}{MASK}", text)
    for secret in _literal_forms(secrets):
        text = text.replace(secret, MASK)
    return text


def redact_url(url: object) -> str:
    """A URL (str or httpx.URL) as text, safe to log."""
    return redact(str(url))


def _literal_forms(secrets: Iterable[str]) -> list[str]:
    """Each secret as written and as it appears percent-encoded in a URL, longest first."""
    forms: set[str] = set()
    for secret in secrets:
        secret = (secret or "").strip()
        if len(secret) < _MIN_SECRET_LENGTH:
            continue
        forms.update({secret, quote(secret, safe=""), quote_plus(secret)})
    return sorted(forms, key=len, reverse=True)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with `redact`, for loggers we do not own (httpx)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def guard_logger(name: str) -> None:
    """Attach one pattern-based RedactingFilter to logger `name` (idempotent).

    httpx logs every request URL at INFO, query string (and so both keys) included.
    """
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
