"""Names and sizes the product's own files share, so every command agrees on them."""

from __future__ import annotations

# Input files the loader reads; `watch` takes exactly these from an inbox.
DELIMITED_SUFFIXES = (".csv", ".txt", ".tsv")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
INPUT_SUFFIXES = DELIMITED_SUFFIXES + WORKBOOK_SUFFIXES
# `watch` takes every spreadsheet the loader reads, but not `.txt`: a note dropped beside
# the nightly file would otherwise be "imported" and filed as failed.
WATCHED_SUFFIXES = tuple(suffix for suffix in INPUT_SUFFIXES if suffix != ".txt")

# What lsq-import writes beside an input.
RESULTS_SUFFIX = ".results.xlsx"
VALIDATION_SUFFIX = ".validation.xlsx"
VERIFY_SUFFIX = ".verify.xlsx"
STATE_DIR_NAME = ".lsq-state"  # journals and logs, beside the results by default

# The validation report's Preview sheet shows this many rows as they would be sent.
PREVIEW_ROWS = 50
# Its Rows sheet shows every input row up to this many rows; a bigger file's Rows sheet holds
# the rows that need fixing only (writing a million rows of cells takes minutes).
ROWS_SHEET_ALL_UP_TO = 50_000

# Extra result columns of a mapping with a `share:` section.
SHARED_WITH = "SharedWith"
SHARE_STATUS = "ShareStatus"
SHARE_COLUMNS = (SHARED_WITH, SHARE_STATUS)
