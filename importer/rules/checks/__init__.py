"""Validation, payloads, previews: imports `rules.mapping`, `rules.values`, `io`, `core`."""
