"""A row's identity in the account ledger (CONTRACT 6b).

A capture with `unique` declared: the operation, the event code and the unique
values (compared ignoring case and surrounding space, as `unique` compares them);
otherwise (and always for an update, whose new values are the point of sending it)
the whole body as it is sent. A renamed file, another `--out`, a comment
added to the mapping: none of them changes a row's identity.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping as MappingOf
from typing import Any

from importer.rules.mapping.mapping import Mapping


def row_identity(mapping: Mapping, body: dict[str, Any], values: MappingOf[str, str]) -> str:
    if mapping.unique and mapping.operation == "capture":
        parts: list[Any] = [mapping.operation, mapping.opportunity_event_code]
        for name in mapping.unique:
            target = mapping.find_target(name) or name
            parts.append(str(values.get(target, "")).strip().casefold())
        text = json.dumps(parts, ensure_ascii=False)
    else:
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def identity_fields(mapping: Mapping) -> list[str] | None:
    """The opportunity fields (Schema Names) a read-back compares to recognise the row.

    With `unique` declared, its opportunity fields (the lead is found by `search_by`);
    otherwise None: every field sent.
    """
    if not mapping.unique or mapping.operation != "capture":
        return None
    names = []
    for name in mapping.unique:
        target = mapping.find_target(name) or name
        if target.startswith("opportunity."):
            names.append(target.removeprefix("opportunity."))
    return names
