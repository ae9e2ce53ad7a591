"""How alike two column headers are, and how well a header names a LeadSquared field.

Headers are compared as words: case, punctuation, abbreviations ("Mob. No.") and
filler ("Number") aside, so "Mobile No." and "mobile" are the same name. Typos and
reordered words go through rapidfuzz; synonyms ("Notes", "Remarks") through the
vocabulary in `synonyms`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein

from importer.rules.mapping.synonyms import (
    ABBREVIATIONS,
    BY_TARGET,
    FIELDS,
    FILLER_WORDS,
    FieldWords,
)

LOOSE_WEIGHT = 0.9  # "Customer Name" fits FirstName, less exactly than "First Name"
SYNONYM_SCORE = 0.9  # two different headers the vocabulary gives to the same field
TYPO_WEIGHT = 0.95  # "Frist Name": close, never as sure as the right spelling
TYPO_MIN_LENGTH = 5  # shorter words ("name", "lname") are told apart by one letter
SHORTER_WEIGHT = 0.8  # a header with fewer words than a field's name
SLASH_WEIGHT = 0.95  # "State/Province": one of its halves names the field
SLASH_OTHER = 0.6  # ...unless another half names another field ("First/Last Name")
_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=4096)
def header_words(text: str) -> tuple[str, ...]:
    """`"Cust. Mobile No."` → `("customer", "mobile")`."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = folded.replace("&", " and ").replace("#", " number ")
    folded = re.sub(r"\be[\s._-]*mail", "email", folded)
    words = [ABBREVIATIONS.get(word, word) for word in _WORD.findall(folded)]
    kept = [word for word in words if word not in FILLER_WORDS]
    return tuple(kept or words)


def similarity(a: str, b: str) -> float:
    """0..1: how alike two headers read, word by word.

    Same words 1; the same words reordered or with a typo ("Frist Name") about 0.9;
    one header's words inside the other's ("Billing City" for "City") 0.6-0.9 by how
    much of the longer one they cover; a word in common 0.3 or less.
    """
    words_a, words_b = header_words(a), header_words(b)
    if words_a == words_b:
        return 1.0
    if not words_a or not words_b:
        return 0.0
    short, long = sorted((set(words_a), set(words_b)), key=len)
    credits = [_word_credit(word, long) for word in short]
    matched = [credit for credit in credits if credit]
    if len(matched) < len(short):
        return (
            0.6 * len(matched) / len(short | long) * (sum(matched) / len(matched) if matched else 0)
        )
    mean = sum(matched) / len(matched)
    if len(short) == len(long):
        return (0.95 if mean == 1.0 else TYPO_WEIGHT) * mean
    return (0.6 + 0.3 * len(short) / len(long)) * mean


def _word_credit(word: str, others: set[str]) -> float:
    """1 for the same word, its likeness for a typo of a long enough word, else 0."""
    if word in others:
        return 1.0
    if len(word) < TYPO_MIN_LENGTH:
        return 0.0
    best = max(
        (DamerauLevenshtein.normalized_similarity(word, other) for other in others),
        default=0.0,
    )
    return best if best >= 0.8 else 0.0  # one slip in five letters


@dataclass(frozen=True)
class NameMatch:
    """How well a header names a field, and through which of its names."""

    score: float
    name: str  # the vocabulary's name that matched best
    loose: bool  # matched one of the field's looser names ("Customer Name")


def name_match(header: str, field: FieldWords) -> NameMatch:
    """The best score of `header` against the field's names; a header of two names
    ("State/Province", "Company / Account") by the half that names one field alone."""
    whole = _names_match(header, field)
    halves = [half for half in header.split("/") if header_words(half)]
    if len(halves) < 2:
        return whole
    scored = [(half, _names_match(half, field)) for half in halves]
    half, best = max(scored, key=lambda item: item[1].score)
    if best.score * SLASH_WEIGHT <= whole.score:
        return whole
    others = [h for h in halves if h != half]
    if any(
        _names_match(other, rival).score >= SLASH_OTHER
        for other in others
        for rival in FIELDS
        if rival.target != field.target
    ):
        return whole  # each half names a different field: the header names neither
    return NameMatch(best.score * SLASH_WEIGHT, best.name, best.loose)


@lru_cache(maxsize=16384)
def _names_match(header: str, field: FieldWords) -> NameMatch:
    best = NameMatch(0.0, "", False)
    words = len(header_words(header))
    for names, weight, loose in (
        (field.names, 1.0, False),
        (field.loose_names, LOOSE_WEIGHT, True),
    ):
        for name in names:
            # a header with fewer words than the name lacks what sets it apart:
            # "Customer Name" is not "Customer Last Name"
            vaguer = SHORTER_WEIGHT if words < len(header_words(name)) else 1.0
            score = similarity(header, name) * weight * vaguer
            if score > best.score:
                best = NameMatch(score, name, loose)
    return best


def fields_named(header: str) -> set[str]:
    """Targets whose vocabulary has exactly this header (after normalising)."""
    words = header_words(header)
    return {
        field.target
        for field in FIELDS
        if any(header_words(name) == words for name in (*field.names, *field.loose_names))
    }


def alike(old: str, new: str, target: str | None = None) -> float:
    """How alike a mapping's column and a file's header are, synonyms included.

    With the target the old column fed, a header the vocabulary gives to that target
    ("Remarks" for `note`) scores as one of its names would.
    """
    score = similarity(old, new)
    if score < SYNONYM_SCORE and fields_named(old) & fields_named(new):
        score = SYNONYM_SCORE
    field = BY_TARGET.get(target or "")
    if field is not None:
        score = max(score, min(name_match(new, field).score, SYNONYM_SCORE))
    return score


def closest(column: str, headers: list[str], target: str | None = None) -> tuple[str, float]:
    """The header most like `column` and its score ("", 0 when there are none)."""
    scored = [(alike(column, header, target), header) for header in headers]
    if not scored:
        return "", 0.0
    score, header = max(scored, key=lambda item: item[0])
    return header, score
