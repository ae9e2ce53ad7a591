"""Drafting mappings from a file: imports `rules.mapping`, `rules.values`, `io`, `core`."""
