"""`--notify` / `LSQ_NOTIFY`: messages to a real webhook server and a real SMTP server
(aiosmtpd), both on 127.0.0.1, sent by the real CLI against the sandbox."""

from __future__ import annotations

import json
import logging
import os
import shutil
import ssl
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import test_watch
from receivers import black_hole, closed_port, smtp_server, webhook
from support import CAPTURE_HEAD, wait_for
from test_watch import SECRETS, aged, names, rows, write_csv, write_xlsx
from typer.testing import CliRunner

from importer.cli import app
from importer.commands.notify import ATTACH_LIMIT_BYTES, Notice, NoticeEvent, Notifier
from importer.core.config import settings_from_env
from importer.core.errors import ConfigError
from importer.core.recipients import MailTarget, WebhookTarget, parse_smtp_url, parse_targets
from importer.io.outbox import send_mail
from importer.sandbox import RunningSandbox, SandboxConfig, serve_in_thread

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # aiosmtpd's login_data

ROOT = Path(__file__).resolve().parents[1]
SMTP_PASSWORD = "pw-s3cret-smtp"
HOOK_SECRET = "T0SECRET"  # in every test webhook's path
ALL_SECRETS = (*SECRETS, SMTP_PASSWORD, HOOK_SECRET)
GENEROUS = 45.0  # seconds: a bound no healthy run comes near, never a speed assertion

# watch's fixtures: the sandbox with the keys SECRETS names, and its loan mapping
served = test_watch.served
mapping = test_watch.mapping


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


def environment(running: RunningSandbox, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSQ_")}
    return env | running.env() | {"LSQ_RATE": "1000/5s", "PYTHONPATH": str(ROOT)} | extra


def lsq_import(
    running: RunningSandbox, *args: str, cwd: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "importer", *args],
        env=environment(running, **env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def smtp_url(port: int) -> str:
    return f"smtp://notifier:{SMTP_PASSWORD}@127.0.0.1:{port}"


def three_files(inbox: Path) -> None:
    """A good file, a file with an invalid row, and a file that is not a workbook."""
    write_csv(inbox / "good.csv", rows("good", 3))
    write_xlsx(inbox / "mixed.xlsx", rows("mixed", 3, invalid=1))
    (inbox / "broken.xlsx").write_bytes(b"not a workbook\x00")
    aged(inbox / "broken.xlsx", 120)


def workbook_text(path: Path) -> str:
    book = openpyxl.load_workbook(path, read_only=True)
    return "\n".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


def assert_no_secrets(*texts: str | bytes) -> None:
    for text in texts:
        shown = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        for secret in ALL_SECRETS:
            assert secret not in shown, f"{secret!r} leaked"


def everything_written(inbox: Path) -> list[str]:
    """Every file the watch wrote: workbooks as their cells, the rest as text."""
    texts = []
    for path in inbox.rglob("*"):
        if path.is_file() and path.suffix == ".xlsx" and path.name != "mixed.xlsx":
            if "results" in path.name:
                texts.append(workbook_text(path))
        elif path.is_file() and path.suffix in (".txt", ".jsonl", ".csv"):
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return texts


# ---------------------------------------------------------------- targets and settings


def test_targets_parse_webhooks_and_mailto_lists() -> None:
    targets = parse_targets(
        [
            "https://hooks.slack.com/services/T0/B0/x,mailto:ops@example.com,lead@example.com",
            "http://127.0.0.1:9/hook",
        ]
    )
    assert [type(t) for t in targets] == [WebhookTarget, MailTarget, WebhookTarget]
    assert targets[1] == MailTarget(("ops@example.com", "lead@example.com"))
    assert str(targets[0]) == "webhook hooks.slack.com"  # the path is the secret
    assert "services" not in repr(targets[0])
    server = parse_smtp_url(f"smtps://me%40example.com:{SMTP_PASSWORD}@mail.example.com")
    assert (server.port, server.implicit_tls, server.user) == (465, True, "me@example.com")
    assert SMTP_PASSWORD not in repr(server) + str(server)


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("htps://hooks.example.com/T0SECRET/x", 'Notify target "htps://hooks.example.com/…"'),
        ("mailto:", "names no address"),
        ("mailto:not-an-address", "is not an email address"),
        ("http://hooks.example.com/T0SECRET", "is not encrypted"),
        ("https:///T0SECRET", "has no host"),
    ],
)
def test_a_malformed_target_is_one_line_naming_no_secret(target: str, says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_env({"LSQ_NOTIFY": target})
    assert says in str(raised.value)
    assert HOOK_SECRET not in str(raised.value)


def test_mailto_needs_an_smtp_server_and_settings_never_show_it() -> None:
    with pytest.raises(ConfigError, match="needs LSQ_SMTP_URL"):
        settings_from_env({}, notify=["mailto:ops@example.com"])
    settings = settings_from_env(
        {"LSQ_NOTIFY": "mailto:ops@example.com", "LSQ_SMTP_URL": smtp_url(25)}
    )
    assert SMTP_PASSWORD in settings.secrets
    assert SMTP_PASSWORD not in repr(settings)
    with pytest.raises(ConfigError, match="LSQ_SMTP_URL"):
        settings_from_env({"LSQ_SMTP_URL": "smtq://host"})


def test_flags_replace_the_environment_and_notify_on_is_checked() -> None:
    env = {"LSQ_NOTIFY": "https://a.example.com/x", "LSQ_NOTIFY_ON": "always"}
    assert str(settings_from_env(env).notify[0]) == "webhook a.example.com"
    flagged = settings_from_env(env, notify=["https://b.example.com/y"], notify_on="problems")
    assert [str(t) for t in flagged.notify] == ["webhook b.example.com"]
    assert flagged.notify_on == "problems"
    with pytest.raises(ConfigError, match="--notify-on"):
        settings_from_env(env, notify_on="sometimes")


def test_bad_targets_stop_run_and_watch_before_any_row_is_sent(
    sandbox: RunningSandbox, inbox: Path, mapping: Path, no_lsq_env: Path
) -> None:
    write_csv(inbox / "good.csv", rows("good", 2))
    env = sandbox.env() | {"LSQ_RATE": "1000/5s"}
    runner = CliRunner()
    cases = [
        (["run", str(inbox / "good.csv"), "-m", str(mapping), "--notify", "htps://x.io/T0SECRET"]),
        (["watch", str(inbox), "-m", str(mapping), "--once", "--notify", "mailto:"]),
        (["watch", str(inbox), "-m", str(mapping), "--once", "--notify", "mailto:a@example.com"]),
        (["serve", "--port", "0", "--notify", "https://hooks.example.com/x", "--notify-on", "x"]),
    ]
    for args in cases:
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2, result.output
        assert result.output.strip().count("\n") == 0, result.output
        assert "Traceback" not in result.output and HOOK_SECRET not in result.output
    assert sandbox.sandbox.opportunities() == []
    assert names(inbox) == ["good.csv"]


# ---------------------------------------------------------------- watch: the nightly drop


def test_watch_once_tells_about_the_two_problem_files_by_webhook_and_mail(
    sandbox: RunningSandbox, inbox: Path, mapping: Path
) -> None:
    three_files(inbox)
    with webhook() as hook, smtp_server("notifier", SMTP_PASSWORD) as box:
        done = lsq_import(
            sandbox,
            *("watch", str(inbox), "-m", str(mapping), "--once", "--settle", "0"),
            *("--notify", hook.url, "--notify", "mailto:ops@example.com,lead@example.com"),
            cwd=inbox.parent,
            LSQ_SMTP_URL=smtp_url(box.port),
        )
        wait_for(lambda: len(box.messages) >= 2, 10, "the mail to arrive")

    assert done.returncode == 1, done.stderr  # as without --notify
    failed = inbox / "failed"
    assert {n.split(".", 1)[0] for n in names(inbox / "archive")} == {"good"}
    mixed_results = failed / next(n for n in names(failed) if n.endswith(".results.xlsx"))

    by_file = {post["file"]: post for post in hook.posts}
    assert sorted(by_file) == ["broken.xlsx", "mixed.xlsx"]  # good.csv: no problem, no message
    mixed = by_file["mixed.xlsx"]
    assert mixed["event"] == "rows_need_fixing" and mixed["exit_code"] == 1
    assert mixed["counts"]["Success"] == 2 and mixed["counts"]["Invalid"] == 1
    assert sum(mixed["counts"].values()) == 3
    assert mixed["results"] == str(mixed_results)
    assert Path(mixed["moved_to"]).parent == failed and Path(mixed["moved_to"]).is_file()
    assert "1 of its 3 rows did not end Success: 2 Success, 1 Invalid" in mixed["text"]
    assert str(mixed_results) in mixed["text"]
    for field in ("started", "ended"):
        datetime.fromisoformat(mixed[field])
    broken = by_file["broken.xlsx"]
    assert broken["event"] == "file_failed" and broken["exit_code"] == 1
    assert broken["results"] is None and Path(broken["moved_to"]).parent == failed
    assert "could not import broken.xlsx" in broken["text"]
    assert {p.split("?")[0] for p in hook.paths} == {"/hooks/T0SECRET/B0SECRET/xyzzy"}

    assert len(box.messages) == 2
    assert box.recipients == [["ops@example.com", "lead@example.com"]] * 2
    mails = {m["Subject"]: m for m in box.messages}
    assert set(mails) == {
        "lsq-import: mixed.xlsx — 1 row needs fixing",
        "lsq-import: broken.xlsx — could not be imported",
    }
    mail = mails["lsq-import: mixed.xlsx — 1 row needs fixing"]
    assert mail.get_body(("plain",)).get_content().strip() == mixed["text"]
    attached = [part.get_filename() for part in mail.iter_attachments()]
    assert attached == [mixed_results.name]
    assert not list(mails["lsq-import: broken.xlsx — could not be imported"].iter_attachments())
    assert box.logins == [("notifier", SMTP_PASSWORD)] * 2

    assert "not delivered" not in done.stdout
    assert_no_secrets(done.stdout, done.stderr, *hook.raw, *box.raw, *everything_written(inbox))


def test_always_also_tells_about_a_clean_file(
    sandbox: RunningSandbox, inbox: Path, mapping: Path
) -> None:
    write_csv(inbox / "good.csv", rows("good", 2))
    with webhook() as hook:
        done = lsq_import(
            sandbox,
            *("watch", str(inbox), "-m", str(mapping), "--once", "--settle", "0"),
            cwd=inbox.parent,
            LSQ_NOTIFY=hook.url,
            LSQ_NOTIFY_ON="always",
        )
    assert done.returncode == 0, done.stderr
    [post] = hook.posts
    assert post["event"] == "imported" and post["exit_code"] == 0
    assert post["counts"]["Success"] == 2 and post["text"].startswith(
        "lsq-import imported good.csv: 2 rows, all Success."
    )
    assert Path(post["results"]).parent == inbox / "archive"


def test_receivers_that_are_down_change_nothing_but_the_summary(
    sandbox: RunningSandbox, tmp_path: Path, mapping: Path
) -> None:
    outcomes = {}
    with webhook(status=500) as failing:
        for label, targets in (
            ("quiet", {}),
            ("down", {"LSQ_NOTIFY": f"http://127.0.0.1:{closed_port()}/hooks/T0SECRET/x"}),
            ("erroring", {"LSQ_NOTIFY": failing.url}),
        ):
            sandbox.sandbox.reset()
            inbox = tmp_path / label
            inbox.mkdir()
            three_files(inbox)
            started = time.monotonic()
            done = lsq_import(
                sandbox,
                *("watch", str(inbox), "-m", str(mapping), "--once", "--settle", "0"),
                cwd=tmp_path,
                **targets,
            )
            elapsed = time.monotonic() - started
            assert elapsed < GENEROUS, f"{label}: {elapsed:.1f} s"
            filed = {
                folder: sorted(n.split(".", 1)[0] for n in names(inbox / folder))
                for folder in ("archive", "failed")
            }
            outcomes[label] = (done.returncode, filed, names(inbox))
            if label != "quiet":
                assert "2 notifications not delivered (webhook 127.0.0.1 " in done.stdout
                assert done.stderr.count("not delivered") == 1  # logged once, not per file
                assert_no_secrets(done.stdout, done.stderr)
        # The first message is tried three times; the second is not sent to a receiver that
        # already failed in this pass.
        assert len(failing.posts) == 3
        assert all(post["file"] == failing.posts[0]["file"] for post in failing.posts)

    assert outcomes["down"] == outcomes["quiet"] == outcomes["erroring"]
    assert outcomes["quiet"][0] == 1


def test_a_hanging_receiver_costs_the_timeout_once() -> None:
    notice = Notice(
        NoticeEvent.ROWS_NEED_FIXING, "a.csv", datetime.now(), datetime.now(), 1, {"Invalid": 1}
    )
    with black_hole() as url:
        notifier = Notifier(settings_from_env({"LSQ_NOTIFY": url, "LSQ_NOTIFY_TIMEOUT": "1"}))
        started = time.monotonic()
        [delivery] = notifier.tell(notice)
        assert notifier.tell(notice) == []  # down for this round: not waited for again
        elapsed = time.monotonic() - started
    assert not delivery.ok and delivery.error == "timed out"
    assert elapsed < 10  # the 1 s timeout, with room for a slow machine
    assert notifier.summary() == "2 notifications not delivered (webhook 127.0.0.1 timed out)"


def test_no_log_line_shows_a_webhook_path(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the root at DEBUG: httpx, httpcore and ours all speak
    notice = Notice(NoticeEvent.COULD_NOT_RUN, None, datetime.now(), datetime.now(), 2)
    with webhook() as fine, webhook(status=404) as refusing:
        for url in (fine.url, refusing.url):
            Notifier(settings_from_env({"LSQ_NOTIFY": url})).tell(notice)
    assert len(fine.posts) == 1 and len(refusing.posts) == 1  # a 404 is not tried again
    assert "webhook 127.0.0.1 not delivered: answered HTTP 404" in caplog.text
    assert HOOK_SECRET not in caplog.text


# ---------------------------------------------------------------- run, and runs that cannot


def test_run_tells_nothing_for_a_clean_file_and_once_for_rows_to_fix(
    sandbox: RunningSandbox, tmp_path: Path, mapping: Path
) -> None:
    good = write_csv(tmp_path / "good.csv", rows("good", 2))
    mixed = write_csv(tmp_path / "mixed.csv", rows("mixed", 4, invalid=2))
    with webhook() as hook:
        clean = lsq_import(
            sandbox, "run", str(good), "-m", str(mapping), cwd=tmp_path, LSQ_NOTIFY=hook.url
        )
        assert clean.returncode == 0, clean.stderr
        assert hook.posts == []
        some = lsq_import(
            sandbox, "run", str(mixed), "-m", str(mapping), cwd=tmp_path, LSQ_NOTIFY=hook.url
        )
    assert some.returncode == 1, some.stderr
    [post] = hook.posts
    assert post["event"] == "rows_need_fixing" and post["file"] == "mixed.csv"
    assert post["counts"]["Invalid"] == 2 and post["counts"]["Success"] == 2
    assert post["results"] == str(tmp_path / "mixed.results.xlsx")
    assert post["exit_code"] == 1 and post["moved_to"] is None


def test_a_run_that_cannot_run_says_why_once(
    sandbox: RunningSandbox, tmp_path: Path, mapping: Path, inbox: Path
) -> None:
    data = write_csv(tmp_path / "leads.csv", rows("x", 2))
    broken_mapping = tmp_path / "broken.yaml"
    broken_mapping.write_text(CAPTURE_HEAD + "lead:\n  EmailAddress: {column: Email, type: mail}\n")
    write_csv(inbox / "night.csv", rows("n", 2))
    with webhook() as hook:
        wrong_keys = lsq_import(
            sandbox,
            *("run", str(data), "-m", str(mapping), "--notify", hook.url),
            cwd=tmp_path,
            LSQ_ACCESS_KEY="wrong-access-key",
        )
        bad_mapping = lsq_import(
            sandbox,
            *("watch", str(inbox), "-m", str(broken_mapping), "--once", "--notify", hook.url),
            cwd=tmp_path,
        )
    assert wrong_keys.returncode == 2 and bad_mapping.returncode == 2
    assert [post["event"] for post in hook.posts] == ["could_not_run", "could_not_run"]
    keys, mapping_post = hook.posts
    assert keys["file"] == "leads.csv" and keys["exit_code"] == 2
    assert "401" in keys["text"] or "refused the credentials" in keys["text"]
    assert mapping_post["file"] is None and "type" in mapping_post["text"]
    assert names(inbox) == ["night.csv"]  # nothing moved
    assert_no_secrets(*hook.raw, wrong_keys.stderr, bad_mapping.stderr)
    assert "wrong-access-key" not in json.dumps(hook.posts)


# ---------------------------------------------------------------- the page


def test_the_page_tells_with_a_link_to_the_import(tmp_path: Path) -> None:
    from test_web import client_for, start, upload, wait_state
    from web_setup import page_config, write_leads

    with (
        serve_in_thread(SandboxConfig(async_delay=0.05, rate_limit=1000)) as running,
        webhook() as hook,
    ):
        config = page_config(tmp_path, running, address="http://127.0.0.1:8123/")
        config = _with_targets(config, hook.url)
        with client_for(config) as client:
            import_url = start(
                client, upload(client, write_leads(tmp_path / "leads.csv", 3, bad=1))
            )
            wait_state(client, import_url, "finished")
            wait_for(lambda: len(hook.posts) == 1, 15, "the page's message")
    [post] = hook.posts
    assert post["event"] == "rows_need_fixing" and post["file"] == "leads.csv"
    assert post["results"] == f"http://127.0.0.1:8123{import_url}"
    assert post["counts"]["Success"] == 3 and post["counts"]["Invalid"] == 1


def _with_targets(config: Any, url: str) -> Any:
    from dataclasses import replace

    return replace(config, settings=config.settings.with_(notify=parse_targets([url])))


# ---------------------------------------------------------------- mail details


def test_starttls_is_used_when_the_server_offers_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # our client trusts the test certificate
    with smtp_server("notifier", SMTP_PASSWORD, tls_context=context, require_starttls=True) as box:
        server = parse_smtp_url(smtp_url(box.port))
        delivery = send_mail(
            server,
            MailTarget(("ops@example.com",)),
            subject="lsq-import: a.csv — 1 row needs fixing",
            text="One paragraph.",
            attachment=None,
            timeout=10,
        )
    assert delivery.ok, delivery.error
    assert box.logins == [("notifier", SMTP_PASSWORD)]


def test_a_workbook_of_10_mb_or_more_is_named_not_attached(tmp_path: Path) -> None:
    big = tmp_path / "big.results.xlsx"
    with big.open("wb") as handle:
        handle.truncate(ATTACH_LIMIT_BYTES)
    small = tmp_path / "small.results.xlsx"
    small.write_bytes(b"PK")
    with smtp_server() as box:
        settings = settings_from_env(
            {"LSQ_NOTIFY": "mailto:ops@example.com", "LSQ_SMTP_URL": f"smtp://127.0.0.1:{box.port}"}
        )
        notifier = Notifier(settings)
        for path in (big, small):
            notice = Notice(
                NoticeEvent.ROWS_NEED_FIXING,
                path.name,
                datetime.now(),
                datetime.now(),
                1,
                {"Failure": 1},
                results=str(path),
                attachment=path,
            )
            assert all(d.ok for d in notifier.tell(notice))
    big_mail, small_mail = box.messages
    assert not list(big_mail.iter_attachments())
    assert str(big) in big_mail.get_body(("plain",)).get_content()
    assert [p.get_filename() for p in small_mail.iter_attachments()] == [small.name]


def test_a_file_left_for_tomorrow_at_the_daily_cap_is_told_as_stopped_not_failed(
    sandbox: RunningSandbox, inbox: Path, mapping: Path, tmp_path: Path
) -> None:
    write_csv(inbox / "big.csv", rows("big", 6))
    with webhook() as hook:
        done = lsq_import(
            sandbox,
            *("watch", str(inbox), "-m", str(mapping), "--once", "--settle", "0"),
            cwd=inbox.parent,
            LSQ_NOTIFY=hook.url,
            LSQ_DAILY_LIMIT="3",
            LSQ_STATE_HOME=str(tmp_path / "state"),
        )
    assert done.returncode == 1, done.stderr
    [post] = hook.posts
    assert post["event"] == "stopped", post  # not "file_failed": it waits in the inbox
    assert post["counts"]["NotSent"] > 0 and "daily limit" in post["text"]
    assert (inbox / "big.csv").is_file()
