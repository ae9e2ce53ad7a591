"""The bulk (code point matrix) paths give exactly what the per-value functions give."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.rules.checks.checks import (
    _INTEGER_OUT,
    _NUMBER_OUT,
    _PHONE_OUT,
    _SIMPLE_EMAIL,
    TYPE_TESTS,
    EmailTest,
    phone_test,
    plain_emails,
)
from importer.rules.checks.normalise import _sent_numbers, sent_number
from importer.rules.checks.repeats import FirstRows
from importer.rules.values.codepoints import CodePoints
from importer.rules.values.phones import PhoneReader, legacy_phone
from importer.rules.values.phones import sent_phone as international_phone


def first_rows_reference(
    seen: dict[tuple[str, ...], int],
    parts: list[list[str]],
    rows: np.ndarray,
    fold: Callable[[str], str] = str,
) -> list[int]:
    """The plain rule `FirstRows` must equal: a dict of whole keys, every part folded."""
    keys = zip(parts[0], *([fold(text) for text in part] for part in parts[1:]), strict=True)
    return [seen.setdefault(key, row) for key, row in zip(keys, rows.tolist(), strict=True)]


def reference_phone(text: str) -> str:
    """Without a default country: `+` numbers through phonenumbers, others the old way."""
    if text.startswith("+"):
        return international_phone(text, None) or text
    return legacy_phone(text) if text else text


# Mostly the characters the bulk paths look at, plus a few that must send a text back
# to the per-value function (a dot, a NUL, a non-ASCII digit, a long run).
_CHARS = st.sampled_from(list("0123456789,,,+-() .\x00\u0663\u00a0e"))
_GROUPS = st.from_regex(r"[+-]?[0-9]{0,4}(,[0-9]{1,4}){0,3}(\.[0-9]{0,2})?", fullmatch=True)
_PHONES = st.from_regex(r"\+?[0-9]{0,3}([ -]?[0-9]{1,5}){0,4}", fullmatch=True)
_TEXT = st.text(_CHARS, max_size=20).map(str.strip) | _GROUPS | _PHONES | st.just("1" * 45)
_TEXTS = st.lists(_TEXT, max_size=40)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_bulk_normalisers_match_the_per_value_ones(texts: list[str]) -> None:
    assert _sent_numbers(texts) == [sent_number(text) for text in texts]
    assert PhoneReader(None).sent(texts) == [reference_phone(text) for text in texts]


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_bulk_type_tests_match_the_patterns(texts: list[str]) -> None:
    values = pd.Series(texts, dtype=object)
    for kind, pattern in (
        ("number", _NUMBER_OUT),
        ("integer", _INTEGER_OUT),
        ("phone", _PHONE_OUT),
    ):
        expected = [text == "" or pattern.fullmatch(text) is not None for text in texts]
        assert TYPE_TESTS[kind](values).tolist() == expected, kind


def test_common_shapes_are_decided_in_bulk() -> None:
    assert _sent_numbers(["1,20,000", "0,000", "120000", "", "1,2000"]) == [
        "120000",
        "0",
        "120000",
        "",
        "1,2000",
    ]
    assert PhoneReader(None).sent(["+91 98765 43210", "(080) 2345-6789", "9876543210.0"]) == [
        "+91-9876543210",
        "0802345-6789",
        "9876543210",
    ]


def test_texts_that_do_not_fit_are_left_to_the_caller() -> None:
    chars = CodePoints(["12", "1" * 50, "3\x00", "4"])
    assert chars.fits.tolist() == [True, False, False, True]
    assert chars.array.tolist() == ["12", "4"]
    assert chars.only("0123456789").tolist() == [True, True]


def reference_email(text: str) -> bool:
    """What the email check always did: empty, the plain pattern, else email-validator."""
    if text == "" or _SIMPLE_EMAIL.fullmatch(text) is not None:
        return True
    try:
        validate_email(text, check_deliverability=False)
    except (EmailNotValidError, UnicodeError, ValueError):
        return False
    return True


_EMAIL_PARTS = st.sampled_from(
    ["a", "Z9", "_", "%", "+", "-", "--", ".", "..", "@", "com", "co", "x", "test", "LOCAL"]
    + ["in", "onion", "arpa", "é", "\n", " ", "\u200b", "1" * 30, "b" * 63, "c" * 64]
)
_ATOMS = st.from_regex(r"[a-zA-Z0-9_%+-]{1,3}", fullmatch=True) | st.sampled_from(
    ["x" * 40, "y" * 63, "z" * 64, "-", "é", ""]
)
_SHAPED = st.builds(
    "{}@{}.{}".format,
    st.lists(_ATOMS, min_size=1, max_size=3).map(".".join),
    st.lists(_ATOMS, min_size=1, max_size=3).map(".".join),
    st.sampled_from(["com", "in", "TEST", "local", "c0m", "x", "q" * 64, "onion", "museum"]),
)
_EMAILS = st.lists(_EMAIL_PARTS, max_size=12).map("".join) | _SHAPED | st.emails().map(str)


@settings(max_examples=400, deadline=None)
@given(st.lists(_EMAILS, max_size=30))
def test_email_lines_decide_as_the_plain_pattern(texts: list[str]) -> None:
    decided = plain_emails(texts).tolist()
    simple = [text == "" or _SIMPLE_EMAIL.fullmatch(text) is not None for text in texts]
    if not any("\n" in text for text in texts):
        short = [len(text) <= 64 for text in texts]
        # exactly the plain pattern on short lines; never a yes it would not give
        assert [d for d, s in zip(decided, short, strict=True) if s] == [
            v for v, s in zip(simple, short, strict=True) if s
        ]
    assert all(v for d, v in zip(decided, simple, strict=True) if d)
    assert EmailTest()(pd.Series(texts, dtype=object)).tolist() == [
        reference_email(text) for text in texts
    ]


@settings(max_examples=200, deadline=None)
@given(_TEXTS, st.booleans())
def test_phone_test_matches_its_rule(texts: list[str], with_country: bool) -> None:
    refused = set(texts[::3])
    verdict = phone_test(refused, with_country)(pd.Series(texts, dtype=object))
    expected = [
        text not in refused
        and (with_country or text[:1] == "+" or text == "" or bool(_PHONE_OUT.fullmatch(text)))
        for text in texts
    ]
    assert verdict.tolist() == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"[0-9]{0,18}", fullmatch=True) | _TEXT, max_size=30))
def test_integers_read_in_bulk_are_the_texts_values(texts: list[str]) -> None:
    chars = CodePoints(texts)
    digits = chars.only("0123456789") & (chars.lengths > 0) & (chars.lengths <= 18)
    kept = [text for text, fits in zip(texts, chars.fits.tolist(), strict=True) if fits]
    expected = [int(text) for text, ok in zip(kept, digits.tolist(), strict=True) if ok]
    assert chars.integers(digits).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXTS, min_size=2, max_size=4))
def test_phone_reader_remembers_verdicts_across_chunks(chunks: list[list[str]]) -> None:
    reader = PhoneReader(None)
    for texts in [*chunks, *chunks]:  # every chunk twice: the second time all is known
        assert reader.sent(texts) == [reference_phone(text) for text in texts]


_KEY_TEXTS = st.sampled_from(["a", "A", "b", "", "a@x.in", "Loan 1", "LOAN 1", "ß", "SS"])


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 3).flatmap(
        lambda width: st.lists(
            st.lists(st.tuples(*[_KEY_TEXTS] * width), max_size=12), min_size=1, max_size=4
        )
    )
)
def test_first_rows_equal_a_dict_of_whole_keys(chunks: list[list[tuple[str, ...]]]) -> None:
    found, seen, row = FirstRows(), {}, 2
    for chunk in chunks:
        rows = np.arange(row, row + len(chunk), dtype=np.int64)
        row += len(chunk) + 1
        parts = [list(part) for part in zip(*chunk, strict=True)] if chunk else []
        if not parts:
            continue
        expected = first_rows_reference(seen, parts, rows, str.casefold)
        assert found.first_rows(parts, rows, str.casefold).tolist() == expected


def test_a_column_read_whole_in_bulk() -> None:
    texts = ["+91 98765 43210", "+91 98765 43211", "+91 91234 56789"]
    assert PhoneReader(None).sent(texts) == [reference_phone(text) for text in texts]
    assert PhoneReader(None).sent(texts) == ["+91-9876543210", "+91-9876543211", "+91-9123456789"]


_INDIAN = st.builds(
    "{}{}".format,
    st.sampled_from(["", "91", "91 ", "0091", "00 91 ", "091", "+91", "+91 ", "0", "00"]),
    st.from_regex(r"[5-9][0-9]{4} ?[0-9]{4,5}", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_INDIAN | _TEXT, max_size=40))
def test_bulk_phones_with_a_default_country_match_phonenumbers(texts: list[str]) -> None:
    expected = [(international_phone(text, "IN") or text) if text else text for text in texts]
    assert PhoneReader("IN").sent(texts) == expected
