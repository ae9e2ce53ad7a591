"""The first row each `unique` key was seen on, across every chunk of a file.

A key is one text per `unique` column. Keyed by the whole tuple, a dict costs a
tuple per row; keyed by the key's first part (an email, nearly always distinct)
it costs nothing more than the text, and the few rows whose first part was seen
before are settled by comparing the rest of the key.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from itertools import count

import numpy as np


class FirstRows:
    """Answers, for each new row, the first row that had the same key (itself if none)."""

    def __init__(self) -> None:
        self._slots: dict[str, int] = {}  # first part -> slot of the first key that had it
        self._rows: list[np.ndarray] = []  # slot -> row, one array per call
        self._starts: list[int] = []  # the first slot of each of those arrays
        self._size = 0  # slots handed out
        self._rests: list[list[str]] = []  # per part after the first: slot -> text
        self._whole: dict[tuple[str, ...], int] = {}  # keys whose first part was shared

    def first_rows(
        self, parts: list[list[str]], rows: np.ndarray, fold: Callable[[str], str] = str
    ) -> np.ndarray:
        """`parts` holds one list of texts per key part, each as long as `rows` (int64).

        Parts after the first are compared as `fold` makes them, and only for the rows
        whose first part was seen before: most texts are never folded at all.
        """
        size = len(rows)
        if len(parts) == 1:  # the text is the key
            found = map(self._slots.setdefault, parts[0], rows.tolist())
            return np.fromiter(found, dtype=np.int64, count=size)
        start = self._size
        slots = np.fromiter(
            map(self._slots.setdefault, parts[0], count(start)), dtype=np.int64, count=size
        )
        self._rows.append(rows)
        self._starts.append(start)
        self._size += size
        if not self._rests:
            self._rests = [[] for _ in parts[1:]]
        for stored, part in zip(self._rests, parts[1:], strict=True):
            stored.extend(part)
        first = rows.astype(np.int64, copy=True)
        for i in np.flatnonzero(slots != np.arange(start, start + size)).tolist():
            slot = int(slots[i])
            earlier = (parts[0][i], *(fold(stored[slot]) for stored in self._rests))
            self._whole.setdefault(earlier, self._row_of(slot))
            key = (parts[0][i], *(fold(part[i]) for part in parts[1:]))
            first[i] = self._whole.setdefault(key, int(rows[i]))
        return first

    def _row_of(self, slot: int) -> int:
        batch = bisect_right(self._starts, slot) - 1
        return int(self._rows[batch][slot - self._starts[batch]])
