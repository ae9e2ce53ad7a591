"""Matching a mapping's columns to an input's headers."""

from __future__ import annotations

from importer.core.errors import MappingError
from importer.io.tables import normalize_header
from importer.rules.mapping import Mapping

# ---------------------------------------------------------------- columns


def resolve_columns(
    mapping: Mapping, headers: list[str], duplicate_headers: dict[str, list[str]] | None = None
) -> dict[str, str]:
    """Target → header label of the input, for every target read from a column.

    Headers match ignoring case and surrounding spaces. All missing columns are
    reported at once, so a user fixes the file in one go.
    """
    by_name: dict[str, list[str]] = {}
    for label in headers:
        by_name.setdefault(normalize_header(label), []).append(label)
    duplicated = dict(duplicate_headers or {})
    duplicated.update({name: labels for name, labels in by_name.items() if len(labels) > 1})
    found: dict[str, str] = {}
    missing: list[str] = []
    for target, spec in mapping.targets().items():
        if spec.column is None:
            continue
        name = normalize_header(spec.column)
        if name in duplicated:
            labels = ", ".join(f'"{label}"' for label in duplicated[name])
            raise MappingError(
                f'{mapping.where(target)}: column "{spec.column}" appears more than once in the '
                f"input ({labels}); rename or remove the extra one"
            )
        if name in by_name:
            found[target] = by_name[name][0]
        else:
            at = f"line {spec.line}, " if spec.line else ""
            missing.append(f'"{spec.column}" ({at}{target})')
    if missing:
        name = mapping.source.name if mapping.source else "mapping"
        have = ", ".join(f'"{label}"' for label in headers) or "none"
        raise MappingError(
            f"{name}: the input has no column {', '.join(missing)}; its columns are: {have}"
        )
    return found
