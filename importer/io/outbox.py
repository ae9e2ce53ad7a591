"""Delivering one notification: a JSON POST to a webhook, or an email through SMTP.

Each message has one deadline for all its attempts (three at most), so a receiver that is
down delays the import by the timeout at most. Nothing here raises: a delivery that failed
is a `Delivery` saying why in words that name the receiver's host only.
"""

from __future__ import annotations

import json
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import httpx

from importer.core.recipients import MailTarget, SmtpServer, WebhookTarget

ATTEMPTS = 3  # the first try and two retries
BACKOFF_SECONDS = (0.5, 1.0)  # before the second and the third attempt
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# Google Chat refuses a message with fields it does not know: it gets `text` alone.
TEXT_ONLY_HOSTS = frozenset({"chat.googleapis.com"})

Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one message to one target went; `error` is safe to print."""

    target: str
    ok: bool
    attempts: int
    error: str = ""


class _Retry(Exception):
    """This attempt failed in a way another attempt may not (a timeout, a 5xx, SMTP 4xx)."""


class _GiveUp(Exception):
    """Retrying cannot help (a 4xx, a refused login, refused recipients)."""


def post_webhook(
    target: WebhookTarget,
    body: dict[str, Any],
    *,
    timeout: float,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
) -> Delivery:
    """One JSON POST; 2xx is delivered, 408/429/5xx and network faults are tried again."""
    payload = {"text": body["text"]} if target.host in TEXT_ONLY_HOSTS else body
    content = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")

    def attempt(remaining: float) -> None:
        # Straight to the transport: httpx's client logs every URL at INFO, and this URL is
        # a secret. No redirects, cookies or auth are wanted here anyway.
        request = httpx.Request(
            "POST",
            target.url,
            content=content,
            headers={"Content-Type": "application/json; charset=utf-8"},
            extensions={"timeout": httpx.Timeout(remaining).as_dict()},
        )
        sending = transport or httpx.HTTPTransport()
        try:
            answer = sending.handle_request(request)
            answer.read()
            answer.close()
        except httpx.TimeoutException:
            raise _Retry("timed out") from None
        except httpx.TransportError as exc:
            raise _Retry(_network_words(exc)) from None
        finally:
            if transport is None:
                sending.close()
        if answer.is_success:
            return
        reason = f"answered HTTP {answer.status_code}"
        if answer.status_code in (408, 429) or answer.status_code >= 500:
            raise _Retry(reason)
        raise _GiveUp(reason)

    return _deliver(str(target), attempt, timeout, sleep)


def send_mail(
    server: SmtpServer,
    target: MailTarget,
    *,
    subject: str,
    text: str,
    attachment: Path | None,
    timeout: float,
    sleep: Sleep = time.sleep,
) -> Delivery:
    """One email to every address of `target`; the workbook attached when given."""
    message = _message(server, target, subject, text, attachment)

    def attempt(remaining: float) -> None:
        try:
            with _connect(server, remaining) as smtp:
                if server.user:
                    smtp.login(server.user, server.password)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise _GiveUp(f"refused the login (SMTP {exc.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused:
            raise _GiveUp("refused the recipients") from None
        except smtplib.SMTPResponseException as exc:
            reason = f"answered SMTP {exc.smtp_code}"
            if 400 <= exc.smtp_code < 500:
                raise _Retry(reason) from None
            raise _GiveUp(reason) from None
        except _GiveUp:
            raise
        except TimeoutError:
            raise _Retry("timed out") from None
        except ssl.SSLError as exc:
            raise _GiveUp(f"TLS failed ({exc.reason or 'handshake'})") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise _Retry(_network_words(exc)) from None

    return _deliver(str(target), attempt, timeout, sleep)


def _deliver(
    target: str, attempt: Callable[[float], None], timeout: float, sleep: Sleep
) -> Delivery:
    """Up to ATTEMPTS tries, all inside one deadline."""
    deadline = time.monotonic() + timeout
    reason = "not tried"
    for number in range(1, ATTEMPTS + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Delivery(target, False, number - 1, reason)
        try:
            attempt(remaining)
        except _GiveUp as exc:
            return Delivery(target, False, number, str(exc))
        except _Retry as exc:
            reason = str(exc)
            if number < ATTEMPTS:
                sleep(min(BACKOFF_SECONDS[number - 1], max(0.0, deadline - time.monotonic())))
            continue
        return Delivery(target, True, number)
    return Delivery(target, False, ATTEMPTS, reason)


def _connect(server: SmtpServer, timeout: float) -> smtplib.SMTP:
    """A connection ready to log in: TLS from the start (smtps) or after STARTTLS.

    A server on this machine that offers no STARTTLS (a local relay) is used as it is;
    anywhere else the password would cross the network in clear, so that is refused.
    """
    context = ssl.create_default_context()
    if server.implicit_tls:
        return smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
    smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
    try:
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        elif not server.loopback:
            raise _GiveUp("offers no STARTTLS; use smtps:// or a server that does")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _message(
    server: SmtpServer, target: MailTarget, subject: str, text: str, attachment: Path | None
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = server.sender or _default_sender(server)
    message["To"] = ", ".join(target.addresses)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="lsq-import")
    message.set_content(text)
    if attachment is not None:
        message.add_attachment(
            attachment.read_bytes(),
            maintype=XLSX_TYPE[0],
            subtype=XLSX_TYPE[1],
            filename=attachment.name,
        )
    return message


def _default_sender(server: SmtpServer) -> str:
    if "@" in server.user:
        return server.user
    return f"lsq-import@{socket.gethostname() or 'localhost'}"


def _network_words(exc: BaseException) -> str:
    """A network fault in a few words, without the URL (it holds the webhook's secret)."""
    if isinstance(exc, ConnectionRefusedError | httpx.ConnectError):
        text = str(exc).lower()
        if "refused" in text or isinstance(exc, ConnectionRefusedError):
            return "refused the connection"
        return "could not be reached"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "closed the connection"
    if isinstance(exc, socket.gaierror):
        return "could not be found (DNS)"
    return f"could not be reached ({type(exc).__name__})"
