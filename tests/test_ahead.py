"""Reading ahead on a thread changes nothing the caller sees: order, errors, early stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from importer.io.tables.ahead import read_ahead


def test_items_come_in_order() -> None:
    assert list(read_ahead(iter(range(50)))) == list(range(50))
    assert list(read_ahead(iter([]))) == []


def test_an_error_reaches_the_caller_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("row 3 cannot be read")

    seen = []
    with pytest.raises(ValueError, match="row 3 cannot be read"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_closes_the_source_on_the_reader_thread() -> None:
    closed = threading.Event()
    made = []

    def items() -> Iterator[int]:
        try:
            for number in range(1000):
                made.append(number)
                yield number
        finally:
            closed.set()

    for item in read_ahead(items()):
        if item == 2:
            break
    assert closed.is_set()  # the generator returned: the reader has finished
    assert len(made) <= 5  # it read at most a step ahead of the caller
    assert not [t for t in threading.enumerate() if t.name == "lsq-read-ahead"]
