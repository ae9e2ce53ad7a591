"""Short texts as a matrix of code points, so a column's character tests run in numpy.

pandas without pyarrow has no vectorised string kernels, and a Python call per
value costs microseconds. Viewed as a (rows, width) array of code points, a column
of short texts can have its common shapes (`9876543210`, `+91 98…`, `1,20,000`)
recognised and rewritten in bulk. Callers hand every text the matrix does not
decide to their per-value function, so the results are exactly the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from itertools import compress

import numpy as np

WIDTH_LIMIT = 40  # a longer text (rare in typed columns) would widen every row of the matrix
DIGITS = "0123456789"
_POWERS = np.array([10**place for place in range(19)] + [0], dtype=np.int64)  # [-1] is 0


class CodePoints:
    """The texts of one column that fit the matrix (short, no NUL), one row each."""

    def __init__(self, texts: Sequence[str], width_limit: int = WIDTH_LIMIT) -> None:
        self.texts = texts
        lengths = np.fromiter(map(len, texts), np.int64, len(texts))
        fits = lengths <= width_limit
        kept = list(texts) if fits.all() else list(compress(texts, fits))
        # the width given: numpy skips measuring every text again (half the time)
        width = max(int(lengths[fits].max()), 1) if kept else 1
        array = np.array(kept, dtype=f"<U{width}")
        # a fixed-width array drops trailing NULs: such texts stay with the caller
        exact = np.strings.str_len(array) == lengths[fits]
        if not exact.all():
            fits[np.flatnonzero(fits)[~exact]] = False
            array, lengths = array[exact], lengths[fits]
        else:
            lengths = lengths[fits]
        self.fits = fits
        self.array = array
        self.lengths = lengths
        self.points = array.view(np.uint32).reshape(len(array), width)

    @cached_property
    def inside(self) -> np.ndarray:
        """(rows, width): True within each text (the matrix pads with NULs)."""
        inside: np.ndarray = np.arange(self.points.shape[1]) < self.lengths[:, None]
        return inside

    def where(self, chars: str) -> np.ndarray:
        """(rows, width): True where the character is one of `chars`."""
        table = np.zeros(129, dtype=bool)  # ASCII only; everything above maps to 128
        table[[ord(char) for char in chars]] = True
        found: np.ndarray = table[np.minimum(self.points, 128)] & self.inside
        return found

    def only(self, chars: str) -> np.ndarray:
        """Rows made of `chars` alone (an empty text qualifies)."""
        return np.asarray((self.where(chars) | ~self.inside).all(axis=1))

    def integers(self, rows: np.ndarray) -> np.ndarray:
        """The value of each of `rows` (texts of 1-18 ASCII digits) as int64, place by place."""
        digits = self.points[rows].astype(np.int64) - 48
        places = self.lengths[rows, None] - 1 - np.arange(self.points.shape[1])
        weights = _POWERS[np.clip(places, -1, 18)]  # 10**place, 0 past the text's end
        values: np.ndarray = (digits * weights).sum(axis=1)
        return values

    def at(self, positions: np.ndarray) -> np.ndarray:
        """The code point of each row at its own position (0 where it is out of the text)."""
        safe = np.clip(positions, 0, self.points.shape[1] - 1)
        found = np.take_along_axis(self.points, safe[:, None], axis=1)[:, 0]
        return np.where((positions >= 0) & (positions < self.lengths), found, 0)

    def texts_out(
        self, done: np.ndarray, sent: np.ndarray, each: Callable[[str], str]
    ) -> list[str]:
        """`sent` for the rows marked `done`, `each(text)` for every other text."""
        out = np.array(self.texts, dtype=object) if len(self.texts) else np.array([], object)
        positions = np.flatnonzero(self.fits)[done]
        out[positions] = sent.tolist()
        self._fill(out, positions, each)
        texts: list[str] = out.tolist()
        return texts

    def verdicts(
        self, done: np.ndarray, verdict: np.ndarray, each: Callable[[str], bool]
    ) -> np.ndarray:
        """`verdict` for the rows marked `done`, `each(text)` for every other text."""
        out = np.zeros(len(self.texts), dtype=bool)
        positions = np.flatnonzero(self.fits)[done]
        out[positions] = verdict
        self._fill(out, positions, each)
        return out

    def _fill(self, out: np.ndarray, done: np.ndarray, each: Callable[[str], object]) -> None:
        rest = np.ones(len(self.texts), dtype=bool)
        rest[done] = False
        todo = np.flatnonzero(rest)
        if len(todo):
            texts = self.texts
            out[todo] = [each(texts[i]) for i in todo.tolist()]
