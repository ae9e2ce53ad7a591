"""What the page's tests share: input files, a mapping folder, and a page aimed at a sandbox."""

from __future__ import annotations

import csv
from pathlib import Path

from support import LOAN_MAPPING

from importer.core.config import Rate, settings_from_env
from importer.sandbox import RunningSandbox
from importer.web import WebConfig

MAPPING = LOAN_MAPPING
HEADERS = ["Email", "First Name", "Opportunity Name", "Loan Amount"]
SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"


def write_leads(path: Path, rows: int, *, bad: int = 0, hostile: bool = False) -> Path:
    """`rows` good rows, then `bad` rows with a broken email; hostile text in names if asked."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for i in range(rows):
            name = f"{SCRIPT} {i}" if hostile and i % 2 == 0 else f"P{i}"
            writer.writerow([f"person{i}@example.com", name, f"Loan {i}", f"{i + 1},000"])
        for i in range(bad):
            email = IMAGE if hostile and i == 0 else f"not-an-email-{i}"
            writer.writerow([email, f"Bad {i}", f"Broken {i}", "5000"])
    return path


def mapping_folder(root: Path) -> Path:
    folder = root / "mappings"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "loan.yaml").write_text(MAPPING, encoding="utf-8")
    return folder


def page_config(root: Path, running: RunningSandbox, **overrides: object) -> WebConfig:
    """A page whose imports go to this sandbox, its work folder under `root`."""
    env = dict(running.env())
    settings = settings_from_env(environ=env, cwd=root).with_(rate=Rate(1000, 5.0), workers=4)
    values: dict[str, object] = {
        "work_dir": root / "work",
        "mappings_dir": mapping_folder(root),
        "settings": settings,
        "sandbox": True,
    }
    values.update(overrides)
    return WebConfig(**values)  # type: ignore[arg-type]


def captures(running: RunningSandbox) -> int:
    """Capture calls the sandbox received (async and sync)."""
    calls = running.sandbox.snapshot()["counters"]["calls"]
    return int(
        calls.get("/opportunity/capture", 0) + calls.get("/v2/OpportunityManagement.svc/Capture", 0)
    )


def stored_names(running: RunningSandbox) -> list[str]:
    return [o["Fields"]["mx_Custom_1"] for o in running.sandbox.opportunities()]
