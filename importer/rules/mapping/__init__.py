"""The mapping, its file, columns, identity and messages: imports `rules.values`, `core`."""
