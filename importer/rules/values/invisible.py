"""Characters a spreadsheet does not show: zero-width spaces, byte order marks, odd spaces.

Copied from web pages, WhatsApp or PDFs, values carry them, and an amount or a
phone with a zero-width space in it looks right but fails. Where removing them
is harmless (around any value, inside numbers, phones, dates, yes/no) they go;
inside text they stay where they may mean something (joiners shape Indic
scripts), and inside an email address the message names them.
"""

from __future__ import annotations

import unicodedata

INVISIBLE_NAMES = {
    "\u200b": "zero-width space",
    "\u200c": "zero-width non-joiner",
    "\u200d": "zero-width joiner",
    "\u2060": "word joiner",
    "\ufeff": "byte order mark",
    "\u00ad": "soft hyphen",
    "\u200e": "left-to-right mark",
    "\u200f": "right-to-left mark",
    "\u180e": "Mongolian vowel separator",
    "\u00a0": "non-breaking space",
    "\u202f": "narrow non-breaking space",
    "\u3000": "ideographic space",
}
# Unicode spaces a spreadsheet shows as a plain space.
_SPACES = {chr(code): " " for code in (0x00A0, 0x1680, 0x202F, 0x205F, 0x3000)} | {
    chr(code): " " for code in range(0x2000, 0x200B)
}
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u180e"
_NEVER_MEANT = "\u200b\u2060\ufeff"  # no script needs these inside text
_TYPED = str.maketrans({**_SPACES, **dict.fromkeys(_ZERO_WIDTH)})
_TEXT = str.maketrans({**_SPACES, **dict.fromkeys(_NEVER_MEANT)})
_EDGES = _ZERO_WIDTH + "".join(_SPACES) + " \t\r\n\v\f"
_KEEP_INSIDE = ("email",)
_TEXT_TYPES = ("string",)


def tidy(texts: list[str], kind: str) -> list[str]:
    """Trim every text; drop invisible characters where that cannot change the value."""
    out = list(map(str.strip, texts))
    if "".join(out).isascii():  # the common case, decided by one C call (isascii is a flag)
        return out
    for position, text in enumerate(out):
        if not text.isascii():
            out[position] = tidy_one(text, kind)
    return out


def tidy_one(text: str, kind: str) -> str:
    text = text.strip(_EDGES)
    if kind in _KEEP_INSIDE:
        return text
    table = _TEXT if kind in _TEXT_TYPES else _TYPED
    return text.translate(table).strip()


def invisible_in(text: str) -> str | None:
    """The name of the first invisible character in `text`, if any."""
    if text.isascii():
        return None
    for char in text:
        if char in INVISIBLE_NAMES:
            return INVISIBLE_NAMES[char]
        if char in _SPACES:
            return unicodedata.name(char, "unusual space").lower()
    return None
