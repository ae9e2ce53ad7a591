"""The `lsq-import` command (`importer.cli:main`), a thin layer over the Python API."""

from importer.cli.commands import app, main

__all__ = ["app", "main"]
