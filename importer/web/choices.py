"""The mappings a user can pick: the files of `--mappings`, and those drafted on the page.

The browser sends back a key from this list; a key not in it is refused, so no path
ever comes from the browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DRAFT = "draft"
MAPPING_SUFFIXES = (".yaml", ".yml")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class MappingChoice:
    key: str  # what the <select> sends back
    name: str  # the file name, as shown
    path: Path
    drafted: bool


def mapping_choices(mappings_dir: Path, drafts_dir: Path) -> list[MappingChoice]:
    """The mapping files by name: `--mappings` first, then the ones saved from a draft."""
    found = [MappingChoice(f"m:{p.name}", p.name, p, False) for p in _yaml_files(mappings_dir)]
    found += [MappingChoice(f"d:{p.name}", p.name, p, True) for p in _yaml_files(drafts_dir)]
    return found


def find_choice(choices: list[MappingChoice], key: str) -> MappingChoice | None:
    return next((choice for choice in choices if choice.key == key), None)


def draft_file_name(wanted: str, fallback: str) -> str:
    """A safe file name for a drafted mapping: letters, digits, `-`, `_` and `.yaml`."""
    stem = wanted.strip()
    for suffix in MAPPING_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    stem = _SAFE_NAME.sub("-", stem).strip("-.")[:60]
    if not stem:
        stem = _SAFE_NAME.sub("-", fallback).strip("-.")[:60] or "mapping"
    return f"{stem}.yaml"


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MAPPING_SUFFIXES),
        key=lambda p: p.name.lower(),
    )
