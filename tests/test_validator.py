"""Validation: every rule with a row that passes and one that fails, in the user's words."""

from __future__ import annotations

import csv
import re
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from email_validator import validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.core.errors import MappingError
from importer.rules.checks.checks import _SIMPLE_EMAIL
from importer.rules.checks.normalise import sent_number, sent_phone
from importer.rules.checks.validator import ValidatedChunk, Validator
from importer.rules.mapping.columns import resolve_columns
from importer.rules.mapping.mapping import Mapping
from importer.rules.mapping.mapping_file import load_mapping

ROOT = Path(__file__).resolve().parents[1]

HEAD = """\
version: 1
opportunity_event_code: 12000
search_by: EmailAddress
lead:
  EmailAddress: {column: Email, type: email}
"""


def mapping_with(tmp_path: Path, fields: str, head: str = HEAD) -> Mapping:
    """A capture mapping whose opportunity section is `fields` (YAML lines)."""
    text = head + "opportunity:\n" + textwrap.indent(textwrap.dedent(fields), "  ")
    path = tmp_path / "test.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def read_rows(tmp_path: Path, header: list[str], rows: list[list[str]]) -> pd.DataFrame:
    """Write a real CSV and read it the way the loader hands frames over (RowNumber index)."""
    path = tmp_path / "input.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="RowNumber")
    return frame


def check(
    tmp_path: Path, fields: str, column: str, cells: list[str], head: str = HEAD
) -> tuple[ValidatedChunk, Validator]:
    """Validate one opportunity column (plus a valid email) holding `cells`, one per row."""
    mapping = mapping_with(tmp_path, fields, head)
    frame = read_rows(
        tmp_path,
        ["Email", column],
        [[f"user{i}@example.com", cell] for i, cell in enumerate(cells)],
    )
    validator = Validator(mapping, resolve_columns(mapping, list(frame.columns)))
    return validator.validate(frame), validator


def sent(chunk: ValidatedChunk, target: str) -> list[str]:
    return chunk.values[target].tolist()


def messages(chunk: ValidatedChunk) -> list[str]:
    return [error.message for error in chunk.errors]


# ---------------------------------------------------------------- one rule at a time


def test_every_value_is_trimmed(tmp_path: Path) -> None:
    chunk, _ = check(tmp_path, "mx_Custom_1: Name\n", "Name", ["  Asha  ", "\tRavi"])
    assert sent(chunk, "opportunity.mx_Custom_1") == ["Asha", "Ravi"]
    assert sent(chunk, "lead.EmailAddress") == ["user0@example.com", "user1@example.com"]


def test_required(tmp_path: Path) -> None:
    fields = "mx_Custom_1: {column: Opportunity Name, required: true}\n"
    chunk, _ = check(tmp_path, fields, "Opportunity Name", ["Home loan", "   ", ""])
    assert sent(chunk, "opportunity.mx_Custom_1") == ["Home loan"]
    assert chunk.invalid_rows == [3, 4]
    assert messages(chunk) == [
        "Row 3, Opportunity Name: required but empty",
        "Row 4, Opportunity Name: required but empty",
    ]
    error = chunk.errors[0]
    assert (error.row_number, error.column, error.value) == (3, "Opportunity Name", "   ")


def test_default_fills_empty_cells(tmp_path: Path) -> None:
    fields = "Status: {column: Status, allowed: [Open, Won, Lost], default: Open, required: true}\n"
    chunk, _ = check(tmp_path, fields, "Status", ["", "won", " "])
    assert sent(chunk, "opportunity.Status") == ["Open", "Won", "Open"]
    assert chunk.errors == []


def test_empty_optional_cell_is_sent_as_empty(tmp_path: Path) -> None:
    chunk, _ = check(tmp_path, "mx_Custom_6: {column: Amount, type: number}\n", "Amount", [""])
    assert sent(chunk, "opportunity.mx_Custom_6") == [""]


def test_email(tmp_path: Path) -> None:
    mapping = mapping_with(tmp_path, "mx_Custom_1: Name\n")
    frame = read_rows(
        tmp_path,
        ["Email", "Name"],
        [
            [" Asha.Rao@Example.com ", "a"],
            ["bob@", "b"],
            ["x@localhost", "c"],
            ["δοκιμή@example.com", "d"],
        ],
    )
    chunk = Validator(mapping, resolve_columns(mapping, list(frame.columns))).validate(frame)
    assert sent(chunk, "lead.EmailAddress") == ["Asha.Rao@Example.com", "δοκιμή@example.com"]
    assert messages(chunk) == [
        'Row 3, Email: "bob@" is not a valid email address',
        'Row 4, Email: "x@localhost" is not a valid email address',
    ]


def test_search_by_field_is_always_required(tmp_path: Path) -> None:
    mapping = mapping_with(tmp_path, "mx_Custom_1: Name\n")
    frame = read_rows(tmp_path, ["Email", "Name"], [["", "a"]])
    chunk = Validator(mapping, resolve_columns(mapping, list(frame.columns))).validate(frame)
    assert messages(chunk) == ["Row 2, Email: required but empty"]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("9876543210", "9876543210"),
        ("9876543210.0", "9876543210"),
        ("+91 98765 43210", "+91-9876543210"),
        ("(080) 2555.1234", "08025551234"),
        ("+91-98765-43210", "+91-9876543210"),
        ("1234567", "1234567"),
        ("123456789012345", "123456789012345"),
    ],
)
def test_phone_passes(tmp_path: Path, cell: str, expected: str) -> None:
    chunk, _ = check(tmp_path, "mx_Custom_3: {column: Mobile, type: phone}\n", "Mobile", [cell])
    assert chunk.errors == []
    assert sent(chunk, "opportunity.mx_Custom_3") == [expected]


@pytest.mark.parametrize(
    "cell", ["123456", "1234567890123456", "98765x43210", "98765--43210", "-9876543210"]
)
def test_phone_fails(tmp_path: Path, cell: str) -> None:
    chunk, _ = check(tmp_path, "mx_Custom_3: {column: Mobile, type: phone}\n", "Mobile", [cell])
    assert messages(chunk) == [
        f'Row 2, Mobile: "{cell}" is not a valid phone number (7 to 15 digits; + at the start, '
        "spaces, dashes and brackets allowed)"
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,20,000", "120000"),
        ("1,200.50", "1200.5"),
        ("-5", "-5"),
        ("3.0", "3"),
        ("+7", "7"),
        ("007", "7"),
        ("-0.0", "0"),
        (".5", "0.5"),
        ("1.2E+5", "120000"),
        ("2.5e-3", "0.0025"),
        ("120000", "120000"),
    ],
)
def test_number_passes(tmp_path: Path, cell: str, expected: str) -> None:
    chunk, _ = check(tmp_path, "mx_Custom_6: {column: Amount, type: number}\n", "Amount", [cell])
    assert chunk.errors == []
    assert sent(chunk, "opportunity.mx_Custom_6") == [expected]


@pytest.mark.parametrize("cell", ["abc", "1,5", "1.2.3", "₹5₹00", "1e999", "12 000", "nan", "inf"])
def test_number_fails(tmp_path: Path, cell: str) -> None:
    chunk, _ = check(tmp_path, "mx_Custom_6: {column: Amount, type: number}\n", "Amount", [cell])
    assert messages(chunk) == [f'Row 2, Amount: "{cell}" is not a number']


def test_integer(tmp_path: Path) -> None:
    fields = "mx_Custom_3: {column: Year, type: integer}\n"
    chunk, _ = check(tmp_path, fields, "Year", ["2025", "2,025", "2025.0", "2025.5", "x"])
    assert sent(chunk, "opportunity.mx_Custom_3") == ["2025", "2025", "2025"]
    assert messages(chunk) == [
        'Row 5, Year: "2025.5" is not a whole number',
        'Row 6, Year: "x" is not a whole number',
    ]


def test_min_and_max(tmp_path: Path) -> None:
    fields = "mx_Custom_6: {column: Loan Amount, type: number, min: 0, max: 1000000}\n"
    chunk, _ = check(tmp_path, fields, "Loan Amount", ["0", "10,00,000", "-5000", "10,00,001"])
    assert sent(chunk, "opportunity.mx_Custom_6") == ["0", "1000000"]
    assert messages(chunk) == [
        'Row 4, Loan Amount: "-5000" is below the minimum 0',
        'Row 5, Loan Amount: "10,00,001" is above the maximum 1000000',
    ]


def test_unreadable_number_gets_one_message_not_two(tmp_path: Path) -> None:
    fields = "mx_Custom_6: {column: Loan Amount, type: number, min: 0, max: 10, max_length: 2}\n"
    chunk, _ = check(tmp_path, fields, "Loan Amount", ["lots of money"])
    assert messages(chunk) == ['Row 2, Loan Amount: "lots of money" is not a number']


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-03-31", "2025-03-31"),
        ("2025-3-1", "2025-03-01"),
        ("31/03/2025", "2025-03-31"),
        ("2025-03-31 00:00:00", "2025-03-31"),
        ("2025-03-31T00:00", "2025-03-31"),
    ],
)
def test_date_passes(tmp_path: Path, cell: str, expected: str) -> None:
    fields = 'mx_Custom_8: {column: Close, type: date, format: "%d/%m/%Y"}\n'
    chunk, _ = check(tmp_path, fields, "Close", [cell])
    assert chunk.errors == []
    assert sent(chunk, "opportunity.mx_Custom_8") == [expected]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("2025-02-30", ": February has no 30th"),
        ("31-13-2025", ": there is no month 13"),
        ("2025-03-31 10:00:00", " has a time of day, but this field takes a date only"),
        ("soon", " is not a date; write it like 2026-01-15, 15/01/2026 or 15-Jan-2026"),
        (
            "31 03 2025",
            " is not a date lsq-import can read on its own; "
            'add format: "%d %m %Y" to this field in the mapping',
        ),
    ],
)
def test_date_fails(tmp_path: Path, cell: str, reason: str) -> None:
    fields = 'mx_Custom_8: {column: Close, type: date, format: "%d/%m/%Y"}\n'
    chunk, _ = check(tmp_path, fields, "Close", [cell])
    assert messages(chunk) == [f'Row 2, Close: "{cell}"{reason}']


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-01-06 10:30:00", "2025-01-06 10:30:00"),
        ("2025-01-06 10:30", "2025-01-06 10:30:00"),
        ("2025-01-06T9:05:07.250", "2025-01-06 09:05:07"),
        ("2025-01-06", "2025-01-06 00:00:00"),
        ("06/01/2025 18:45", "2025-01-06 18:45:00"),
    ],
)
def test_datetime_passes(tmp_path: Path, cell: str, expected: str) -> None:
    head = HEAD + 'datetime: {column: When, type: datetime, format: "%d/%m/%Y %H:%M"}\n'
    chunk, _ = check(tmp_path, "mx_Custom_1: {value: x}\n", "When", [cell], head=head)
    assert chunk.errors == []
    assert sent(chunk, "datetime") == [expected]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("2025-01-06 25:00", ": there is no hour 25"),
        ("06/01/2025 13:00 PM", ": 13 is not an hour on a 12-hour clock with PM"),
        (
            "2025-01-06 10:30+05:30",
            " is not a date and time; write it like 2026-01-15 14:30:00, 15/01/2026 or 15-Jan-2026",
        ),
        (
            "yesterday",
            " is not a date and time; write it like 2026-01-15 14:30:00, 15/01/2026 or 15-Jan-2026",
        ),
    ],
)
def test_datetime_fails(tmp_path: Path, cell: str, reason: str) -> None:
    head = HEAD + "datetime: {column: When, type: datetime}\n"
    chunk, _ = check(tmp_path, "mx_Custom_1: {value: x}\n", "When", [cell], head=head)
    assert messages(chunk) == [f'Row 2, When: "{cell}"{reason}']


def test_boolean(tmp_path: Path) -> None:
    fields = "mx_Custom_4: {column: Scholarship, type: boolean}\n"
    cells = ["TRUE", "no", "Y", "0", "yes", "N", "1", "false", "maybe"]
    chunk, _ = check(tmp_path, fields, "Scholarship", cells)
    assert sent(chunk, "opportunity.mx_Custom_4") == [
        "true", "false", "true", "false", "true", "false", "true", "false",
    ]  # fmt: skip
    assert messages(chunk) == [
        'Row 10, Scholarship: "maybe" is not a yes/no value (use true, false, yes, no, 1 or 0)'
    ]


def test_allowed_ignores_case_and_sends_the_listed_spelling(tmp_path: Path) -> None:
    fields = "mx_Custom_2: {column: Stage, allowed: [Prospecting, New, Qualified]}\n"
    chunk, _ = check(tmp_path, fields, "Stage", ["new", " QUALIFIED ", "Won"])
    assert sent(chunk, "opportunity.mx_Custom_2") == ["New", "Qualified"]
    assert messages(chunk) == ['Row 4, Stage: "Won" is not one of Prospecting, New, Qualified']


def test_max_length_counts_the_sent_text(tmp_path: Path) -> None:
    fields = "mx_Custom_1: {column: Name, max_length: 5}\n"
    chunk, _ = check(tmp_path, fields, "Name", ["  abcde  ", "abcdef"])
    assert sent(chunk, "opportunity.mx_Custom_1") == ["abcde"]
    assert messages(chunk) == ['Row 3, Name: "abcdef" is longer than 5 characters (6)']


def test_pattern_is_a_full_match(tmp_path: Path) -> None:
    fields = 'mx_Custom_1: {column: App, pattern: "ADM-[0-9]{3}"}\n'
    chunk, _ = check(tmp_path, fields, "App", [" ADM-123 ", "ADM-1234", "xADM-123", ""])
    assert sent(chunk, "opportunity.mx_Custom_1") == ["ADM-123", ""]
    assert messages(chunk) == [
        'Row 3, App: "ADM-1234" does not have the expected form (pattern ADM-[0-9]{3})',
        'Row 4, App: "xADM-123" does not have the expected form (pattern ADM-[0-9]{3})',
    ]


def test_required_if(tmp_path: Path) -> None:
    mapping = mapping_with(
        tmp_path,
        """\
        Status: {column: Status, allowed: [Open, Won, Lost], default: Open}
        mx_Custom_19: {column: Status Comment, required_if: {Status: [Won, Lost]}}
        """,
    )
    frame = read_rows(
        tmp_path,
        ["Email", "Status", "Status Comment"],
        [
            ["a@example.com", "Open", ""],
            ["b@example.com", "", ""],
            ["c@example.com", "won", "Paid"],
            ["d@example.com", "Lost", " "],
            ["e@example.com", "WON", ""],
        ],
    )
    chunk = Validator(mapping, resolve_columns(mapping, list(frame.columns))).validate(frame)
    assert chunk.invalid_rows == [5, 6]
    assert messages(chunk) == [
        "Row 5, Status Comment: required when Status is Lost",
        "Row 6, Status Comment: required when Status is Won",
    ]


def test_required_if_naming_a_field_with_a_space_in_its_name(tmp_path: Path) -> None:
    mapping = mapping_with(
        tmp_path,
        """\
        Deal Status: {column: Status, allowed: [Open, Won, Lost], default: Open}
        Close Note: {column: Status Comment, required_if: {Deal Status: [Won]}}
        """,
    )
    frame = read_rows(
        tmp_path,
        ["Email", "Status", "Status Comment"],
        [["a@example.com", "Won", ""], ["b@example.com", "Won", "Paid"]],
    )
    chunk = Validator(mapping, resolve_columns(mapping, list(frame.columns))).validate(frame)
    assert chunk.invalid_rows == [2]
    assert messages(chunk) == ["Row 2, Status Comment: required when Status is Won"]


def test_required_if_on_a_constant(tmp_path: Path) -> None:
    fields = """\
    Status: {value: won, allowed: [Open, Won]}
    mx_Custom_19: {column: Comment, required_if: {Status: [Won]}}
    """
    chunk, _ = check(tmp_path, fields, "Comment", ["done", ""])
    assert sent(chunk, "opportunity.Status") == ["Won"]
    assert messages(chunk) == ["Row 3, Comment: required when opportunity.Status is Won"]


def test_constant_is_checked_once_and_sent_in_its_sent_form(tmp_path: Path) -> None:
    fields = "mx_Custom_1: Name\nmx_Custom_4: {value: YES, type: boolean}\n"
    chunk, _ = check(tmp_path, fields, "Name", ["a", "b"])
    assert sent(chunk, "opportunity.mx_Custom_4") == ["true", "true"]


def test_bad_constant_is_a_mapping_error_with_its_line(tmp_path: Path) -> None:
    mapping = mapping_with(
        tmp_path, "mx_Custom_1: Name\nmx_Custom_6: {value: lots, type: number}\n"
    )
    with pytest.raises(MappingError) as caught:
        Validator(mapping, {"lead.EmailAddress": "Email", "opportunity.mx_Custom_1": "Name"})
    assert str(caught.value) == (
        'test.yaml line 8 (opportunity.mx_Custom_6): value "lots" is not a number'
    )


def test_bad_default_is_a_mapping_error(tmp_path: Path) -> None:
    mapping = mapping_with(tmp_path, "Status: {column: Status, allowed: [Open], default: Shut}\n")
    with pytest.raises(MappingError, match=r'line 7 \(opportunity.Status\): default "Shut" is not'):
        Validator(mapping, {"lead.EmailAddress": "Email", "opportunity.Status": "Status"})


def test_several_problems_in_one_row_are_all_reported(tmp_path: Path) -> None:
    mapping = load_mapping(ROOT / "mappings" / "loan.yaml")
    header = [
        "Email", "First Name", "Last Name", "Mobile", "City", "Opportunity Name", "Stage",
        "Loan Amount", "Expected Close", "Status", "Status Comment", "Notes", "Opportunity Date",
    ]  # fmt: skip
    frame = read_rows(
        tmp_path,
        header,
        [["bob@", "Bob", "", "12", "", "", "Won", "-1", "31/02/2025", "Lost", "", "", ""]],
    )
    chunk = Validator(mapping, resolve_columns(mapping, header)).validate(frame)
    assert chunk.invalid_rows == [2]
    assert messages(chunk) == [
        'Row 2, Email: "bob@" is not a valid email address',
        'Row 2, Mobile: "12" is not a valid phone number: too few digits for a number in IN (+91)',
        "Row 2, Opportunity Name: required but empty",
        'Row 2, Stage: "Won" is not one of Prospecting, New, Qualified',
        'Row 2, Loan Amount: "-1" is below the minimum 0',
        'Row 2, Expected Close: "31/02/2025": February has no 31st',
        "Row 2, Status Comment: required when Status is Lost",
    ]
    assert chunk.values.empty
    assert list(chunk.values.columns) == list(mapping.targets())


def test_long_values_are_shortened_in_messages(tmp_path: Path) -> None:
    chunk, _ = check(tmp_path, "mx_Custom_6: {column: A, type: number}\n", "A", ["x" * 500])
    assert len(chunk.errors[0].message) < 120
    assert chunk.errors[0].value == "x" * 500


# ---------------------------------------------------------------- unique


UNIQUE_HEAD = HEAD.replace(
    "search_by: EmailAddress\n", "search_by: EmailAddress\nunique: [EmailAddress, mx_Custom_1]\n"
)


def test_unique_repeats_name_the_earlier_row(tmp_path: Path) -> None:
    mapping = mapping_with(tmp_path, "mx_Custom_1: {column: Name}\n", UNIQUE_HEAD)
    frame = read_rows(
        tmp_path,
        ["Email", "Name"],
        [
            ["a@b.com", "Loan"],
            ["a@b.com", "Other loan"],
            ["A@B.com ", " LOAN"],
            ["c@d.com", ""],
            ["c@d.com", ""],
        ],
    )
    chunk = Validator(mapping, resolve_columns(mapping, list(frame.columns))).validate(frame)
    assert messages(chunk) == ["Row 4, Email: same Email and Name as row 2"]
    assert chunk.invalid_rows == [4]


def test_unique_spans_chunks_and_counts_only_valid_rows(tmp_path: Path) -> None:
    mapping = mapping_with(
        tmp_path,
        "mx_Custom_1: {column: Name}\nmx_Custom_6: {column: Amount, type: number}\n",
        UNIQUE_HEAD,
    )
    header = ["Email", "Name", "Amount"]
    first = read_rows(tmp_path, header, [["a@b.com", "Loan", "oops"], ["x@y.com", "Car", "1"]])
    validator = Validator(mapping, resolve_columns(mapping, header))
    one = validator.validate(first)
    assert one.invalid_rows == [2]  # invalid: does not claim the key
    second = read_rows(tmp_path, header, [["a@b.com", "loan", "5"], ["X@Y.com", "car", "2"]])
    second.index = pd.RangeIndex(9, 11, name="RowNumber")
    two = validator.validate(second)
    assert sent(two, "opportunity.mx_Custom_1") == ["loan"]
    assert messages(two) == ["Row 10, Email: same Email and Name as row 3"]


# ---------------------------------------------------------------- whole file, speed, fuzz


def test_sample_loans_csv(tmp_path: Path) -> None:
    mapping = load_mapping(ROOT / "mappings" / "loan.yaml")
    frame = pd.read_csv(ROOT / "samples" / "loans.csv", dtype=str, keep_default_na=False)
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="RowNumber")
    frame = frame[~frame.eq("").all(axis=1)]  # the loader drops wholly blank rows
    chunk = Validator(mapping, resolve_columns(mapping, list(frame.columns))).validate(frame)
    assert chunk.invalid_rows == [5, 6, 7, 10]
    assert len(chunk.values) == len(frame) - 4
    first = chunk.values.iloc[0]
    assert first["opportunity.mx_Custom_6"] == "2500000"
    assert first["opportunity.mx_Custom_8"] == "2025-03-31"
    assert first["datetime"] == "2025-01-06 10:30:00"


def test_index_and_columns_of_values(tmp_path: Path) -> None:
    chunk, _ = check(tmp_path, "mx_Custom_1: Name\n", "Name", ["a", "b"])
    assert chunk.values.index.tolist() == [2, 3]
    assert chunk.values.index.name == "RowNumber"
    assert all(isinstance(v, str) for v in chunk.values.to_numpy().ravel())


def test_an_empty_frame(tmp_path: Path) -> None:
    chunk, _ = check(tmp_path, "mx_Custom_1: {column: Name, required: true}\n", "Name", [])
    assert chunk.values.empty and chunk.invalid_rows == [] and chunk.errors == []


def test_sent_number_and_phone_directly() -> None:
    assert sent_number("1,20,000.50") == "120000.5"
    assert sent_number("-000.000") == "0"
    assert sent_phone("+1 (555) 010.9999") == "+15550109999"


_LOCAL = st.from_regex(r"[A-Za-z0-9_%+-]{1,30}(?:\.[A-Za-z0-9_%+-]{1,30}){0,2}", fullmatch=True)
_LABEL = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?", fullmatch=True)
_TLD = st.one_of(
    st.from_regex(r"[A-Za-z]{2,63}", fullmatch=True),
    st.sampled_from(["test", "LOCAL", "localhost", "onion", "arpa", "invalid"]),
)
_PLAIN_EMAILS = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    _LOCAL,
    st.lists(_LABEL, min_size=1, max_size=3),
    _TLD,
)


@settings(max_examples=150, deadline=None)
@given(_PLAIN_EMAILS)
def test_fast_email_pattern_only_accepts_what_email_validator_accepts(address: str) -> None:
    if _SIMPLE_EMAIL.fullmatch(address):
        validate_email(address, check_deliverability=False)


def test_fast_email_pattern_leaves_special_domains_to_email_validator() -> None:
    assert _SIMPLE_EMAIL.fullmatch("a@b.example.com")
    assert not _SIMPLE_EMAIL.fullmatch("a@b.test")
    assert not _SIMPLE_EMAIL.fullmatch("a@b.LocalHost")
    assert not _SIMPLE_EMAIL.fullmatch("a" * 65 + "@example.com")


ALL_TYPES = """\
mx_Custom_1: {column: A, required: true, max_length: 10, pattern: "[a-z ]*"}
mx_Custom_2: {column: B, type: phone}
mx_Custom_3: {column: C, type: number, min: 0, max: 100}
mx_Custom_4: {column: D, type: integer}
mx_Custom_5: {column: E, type: date, format: "%d/%m/%Y"}
mx_Custom_6: {column: F, type: datetime, format: ["%d/%m/%Y %H:%M"]}
mx_Custom_7: {column: G, type: boolean}
Status: {column: H, allowed: [Open, Won], default: Open}
mx_Custom_19: {column: I, required_if: {Status: [Won]}}
"""
FUZZ_HEAD = HEAD.replace(
    "search_by: EmailAddress\n", "search_by: EmailAddress\nunique: [mx_Custom_1, Status]\n"
)
FUZZ_HEADERS = ["Email", "A", "B", "C", "D", "E", "F", "G", "H", "I"]


@pytest.fixture(scope="module")
def fuzz_mapping(tmp_path_factory: pytest.TempPathFactory) -> Mapping:
    return mapping_with(tmp_path_factory.mktemp("fuzz"), ALL_TYPES, FUZZ_HEAD)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(st.text(max_size=12), min_size=10, max_size=10), min_size=1, max_size=6))
def test_any_cell_text_ends_valid_xor_invalid(fuzz_mapping: Mapping, rows: list[list[str]]) -> None:
    frame = pd.DataFrame(rows, columns=FUZZ_HEADERS, dtype=object)
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="RowNumber")
    validator = Validator(fuzz_mapping, resolve_columns(fuzz_mapping, FUZZ_HEADERS))
    chunk = validator.validate(frame)
    valid = set(chunk.values.index)
    invalid = set(chunk.invalid_rows)
    assert valid | invalid == set(frame.index) and not valid & invalid
    assert chunk.invalid_rows == sorted(invalid)
    assert {error.row_number for error in chunk.errors} == invalid
    assert all(re.match(rf"Row {e.row_number}, ", e.message) for e in chunk.errors)
    assert all(isinstance(v, str) for v in chunk.values.to_numpy().ravel())


def test_near_unique_columns_take_the_same_rules(tmp_path: Path) -> None:
    """Columns of (mostly) distinct values skip the Categorical path: same results."""
    fields = """\
    mx_Custom_1: {column: Name, max_length: 8}
    mx_Custom_6: {column: Amount, type: number, min: 0}
    """
    mapping = mapping_with(tmp_path, fields, UNIQUE_HEAD)
    rows = [[f"u{i}@example.com", f"Loan {i}", f"{i},000"] for i in range(300)]
    rows[10][0] = "bad@"
    rows[20][1] = "Loan 20 is far too long"
    rows[30][2] = "-30"
    rows[40] = ["u5@EXAMPLE.com", "loan 5", "1"]
    frame = read_rows(tmp_path, ["Email", "Name", "Amount"], rows)
    chunk = Validator(mapping, resolve_columns(mapping, ["Email", "Name", "Amount"])).validate(
        frame
    )
    assert messages(chunk) == [
        'Row 12, Email: "bad@" is not a valid email address',
        'Row 22, Name: "Loan 20 is far too long" is longer than 8 characters (23)',
        'Row 32, Amount: "-30" is below the minimum 0',
        "Row 42, Email: same Email and Name as row 7",
    ]
    assert len(chunk.values) == 296
    assert chunk.values.loc[3, "opportunity.mx_Custom_6"] == "1000"


# ---------------------------------------------------------------- LeadSquared's words


def test_in_user_words_puts_the_header_before_each_schema_name() -> None:
    from importer.rules.mapping.messages import in_user_words

    headers = {"mx_Custom_19": "Status Comment", "mx_Custom_1": "Opportunity Name"}
    assert in_user_words("mx_Custom_19 is mandatory", headers) == (
        "Status Comment (mx_Custom_19) is mandatory"
    )
    assert in_user_words("Invalid mx_Custom_1; mx_Custom_190 unknown", headers) == (
        "Invalid Opportunity Name (mx_Custom_1); mx_Custom_190 unknown"
    )
    assert in_user_words("Status Comment (mx_Custom_19) is mandatory", headers) == (
        "Status Comment (mx_Custom_19) is mandatory"
    )
    assert in_user_words("Lead not found", headers) == "Lead not found"


def test_cell_problems_from_the_loader_make_mapped_cells_invalid(tmp_path: Path) -> None:
    from importer.io.tables import CellProblem

    mapping = mapping_with(
        tmp_path, "mx_Custom_6: {column: Amount, type: number, required: true}\n"
    )
    frame = read_rows(
        tmp_path, ["Email", "Amount", "Other"], [["a@b.com", "", ""], ["c@d.com", "5", ""]]
    )
    validator = Validator(mapping, resolve_columns(mapping, list(frame.columns)))
    problems = {(2, "Amount"): CellProblem.UNCALCULATED, (3, "Other"): CellProblem.UNCALCULATED}
    chunk = validator.validate(frame, problems)
    assert messages(chunk) == [
        "Row 2, Amount: the cell holds a formula that was never calculated; "
        "open and save the file in Excel, or paste values"
    ]
    assert chunk.invalid_rows == [2]


# ---------------------------------------------------------------- chunks


CHUNKED_FIELDS = """\
mx_Custom_1: {column: Name, required: true, max_length: 6}
mx_Custom_2: {column: Stage, allowed: [New, Won]}
mx_Custom_6: {column: Amount, type: number, min: 0}
mx_Custom_8: {column: Close, type: date, format: "%d/%m/%Y"}
mx_Custom_9: {column: Phone, type: phone}
"""
_POOLS = {
    "Email": ["a@x.in", "B@x.in", "bad@", "", "c@x.in"],
    "Name": ["Loan 1", "loan 1", "", "Far too long", " x "],
    "Stage": ["new", "WON", "Lost", ""],
    "Amount": ["1,20,000", "-5", "12x", "", "007"],
    "Close": ["31/12/2025", "2025-01-02", "31/02/2025", "", "soon"],
    "Phone": ["+91 98765 43210", "+91 12345", "98765-43210", "", "#N/A"],
}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_chunks_one_after_another_give_what_one_chunk_gives(
    tmp_path: Path, data: st.DataObject
) -> None:
    """Values and verdicts kept from earlier chunks change nothing a later chunk reports."""
    size = data.draw(st.integers(1, 60))
    rows = [[data.draw(st.sampled_from(pool)) for pool in _POOLS.values()] for _ in range(size)]
    cuts = sorted(data.draw(st.lists(st.integers(1, size), max_size=4)))
    mapping = mapping_with(tmp_path, CHUNKED_FIELDS, UNIQUE_HEAD)
    frame = read_rows(tmp_path, list(_POOLS), rows)
    columns = resolve_columns(mapping, list(_POOLS))
    whole = Validator(mapping, columns).validate(frame)
    chunked = Validator(mapping, columns)
    parts = [
        chunked.validate(frame.iloc[start:stop])
        for start, stop in zip([0, *cuts], [*cuts, size], strict=True)
        if stop > start
    ]
    assert [m for part in parts for m in messages(part)] == messages(whole)
    assert pd.concat([part.values for part in parts]).equals(whole.values)
