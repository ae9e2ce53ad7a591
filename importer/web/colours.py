"""The status colours as CSS, from the one table the workbooks use too (`STATUS_COLOURS`),
so a chip on the page and a cell in the results workbook always agree."""

from __future__ import annotations

from importer.core.outcomes import STATUS_COLOURS, RowStatus

_NAMES = {
    RowStatus.SUCCESS: "success",
    RowStatus.PENDING: "pending",
    RowStatus.PARTIAL_SUCCESS: "partial",
    RowStatus.FAILURE: "failure",
    RowStatus.INVALID: "invalid",
    RowStatus.NOT_SENT: "notsent",
}


def status_css() -> str:
    """CSS variables `--success-bg`/`--success-ink`… and a class `.s-Success`… per status
    (a chip: the cell's fill and text colour; a bar: the fill, outlined in the text colour)."""
    lines = [":root {"]
    for status, (background, ink) in STATUS_COLOURS.items():
        name = _NAMES[status]
        lines.append(f"  --{name}-bg: {background}; --{name}-ink: {ink};")
    lines.append("}")
    for status in STATUS_COLOURS:
        name = _NAMES[status]
        lines.append(
            f".s-{status} {{ background: var(--{name}-bg); color: var(--{name}-ink); "
            f"fill: var(--{name}-bg); stroke: var(--{name}-ink); }}"
        )
    return "\n".join(lines) + "\n"
