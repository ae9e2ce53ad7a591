"""Values as real exports hold them: phones, amounts, dates, invisible characters, Excel errors.

Each value is written to a real CSV (or workbook) and read back through the loader,
then validated, so the test sees what a user's file would produce.
"""

from __future__ import annotations

import csv
import re
import textwrap
from pathlib import Path

import openpyxl
import phonenumbers
import pytest
import xlsxwriter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from importer.io.tables import open_table
from importer.rules.checks.validator import ValidatedChunk, Validator
from importer.rules.mapping.columns import resolve_columns
from importer.rules.mapping.mapping_file import load_mapping
from importer.rules.values.phones import PhoneReader, legacy_phone, sent_phone

HEAD = """\
version: 1
opportunity_event_code: 12000
search_by: EmailAddress
{extra}lead:
  EmailAddress: {{column: Email, type: email}}
opportunity:
{fields}"""


def validate_csv(
    tmp_path: Path, fields: str, column: str, cells: list[str], extra: str = ""
) -> ValidatedChunk:
    """Write a mapping and a two-column CSV (Email + `column`), load and validate it."""
    mapping_path = tmp_path / "test.yaml"
    mapping_path.write_text(
        HEAD.format(extra=extra, fields=textwrap.indent(textwrap.dedent(fields), "  ")),
        encoding="utf-8",
    )
    data = tmp_path / "input.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Email", column])
        writer.writerows([f"user{i}@example.com", cell] for i, cell in enumerate(cells))
    return validate_file(data, mapping_path)


def validate_file(data: Path, mapping_path: Path) -> ValidatedChunk:
    mapping = load_mapping(mapping_path)
    table = open_table(data)
    validator = Validator(mapping, resolve_columns(mapping, table.headers))
    chunks = [validator.validate(frame, table.cell_problems) for frame in table.chunks()]
    assert len(chunks) == 1
    return chunks[0]


def sent(chunk: ValidatedChunk, target: str) -> list[str]:
    return chunk.values[target].tolist()


def messages(chunk: ValidatedChunk) -> list[str]:
    return [error.message for error in chunk.errors]


PHONE = "mx_Custom_3: {column: Mobile, type: phone}\n"
INDIA = "default_country: IN\n"


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "cell", ["+91 98765 43210", "098765-43210", "9876543210.0", "+91 098765 43210", "9876543210"]
)
def test_phones_with_a_default_country_are_sent_as_cc_dash_national(
    tmp_path: Path, cell: str
) -> None:
    chunk = validate_csv(tmp_path, PHONE, "Mobile", [cell], extra=INDIA)
    assert chunk.errors == []
    assert sent(chunk, "opportunity.mx_Custom_3") == ["+91-9876543210"]


def test_a_foreign_number_keeps_its_own_country(tmp_path: Path) -> None:
    chunk = validate_csv(tmp_path, PHONE, "Mobile", ["+1 415 555 2671"], extra=INDIA)
    assert sent(chunk, "opportunity.mx_Custom_3") == ["+1-4155552671"]


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ("+91 12345", "too few digits for a number in IN (+91)"),
        ("12345", "too few digits for a number in IN (+91)"),
        ("+91-12345", "too few digits for a number in IN (+91)"),
        ("+91 5234567890", "no number in IN (+91) starts like this; check the digits"),
        ("call me", "it does not read as a phone number with a country code"),
    ],
)
def test_numbers_that_cannot_exist_in_the_country_are_invalid(
    tmp_path: Path, cell: str, why: str
) -> None:
    chunk = validate_csv(tmp_path, PHONE, "Mobile", [cell], extra=INDIA)
    assert messages(chunk) == [f'Row 2, Mobile: "{cell}" is not a valid phone number: {why}']


def test_a_plus_number_is_read_as_international_without_a_default_country(
    tmp_path: Path,
) -> None:
    cells = ["+91 098765 43210", "+91 12345", "98765 43210", "(080) 2555 1234"]
    chunk = validate_csv(tmp_path, PHONE, "Mobile", cells)
    assert sent(chunk, "opportunity.mx_Custom_3") == ["+91-9876543210", "9876543210", "08025551234"]
    assert messages(chunk) == [
        'Row 3, Mobile: "+91 12345" is not a valid phone number: '
        "too few digits for a number in IN (+91)"
    ]


def test_unknown_default_country_is_a_mapping_error_with_its_line(tmp_path: Path) -> None:
    from importer.core.errors import MappingError

    with pytest.raises(
        MappingError, match=r'test.yaml line 4 \(default_country\): default_country "ZZ"'
    ):
        validate_csv(tmp_path, PHONE, "Mobile", ["1"], extra="default_country: ZZ\n")


_PHONE_TEXT = st.one_of(
    st.text(alphabet="0123456789 -()+.", max_size=20),
    st.builds(
        lambda code, digits, gap: f"+{code}{gap}{digits}",
        st.sampled_from(["91", "44", "1", "49", "971", "65", "86", "39", "7", "880"]),
        st.text(alphabet="0123456789", min_size=1, max_size=13),
        st.sampled_from(["", " ", "-", " (0) "]),
    ),
    st.builds(
        lambda lead, rest: lead + rest,
        st.sampled_from(["6", "7", "8", "9", "0", "91", "0091", "080"]),
        st.text(alphabet="0123456789 ", min_size=5, max_size=12),
    ),
    st.text(max_size=15),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PHONE_TEXT, min_size=1, max_size=30), st.sampled_from(["IN", "GB", "US", None]))
@example([".+442000000000"], None)  # a stray mark before the `+`: read as phonenumbers reads it
def test_the_bulk_phone_path_equals_phonenumbers_one_by_one(
    texts: list[str], region: str | None
) -> None:
    reader = PhoneReader(region)
    for text, got in zip(texts, reader.sent(texts), strict=True):
        expected = sent_phone(text, region) if text else ""
        if expected is None:
            refused = region is not None or text.startswith("+")
            expected = text if refused else legacy_phone(text)
            assert (text in reader.refused) == refused
        assert got == expected, text


def test_the_bulk_phone_path_agrees_on_real_numbers_of_every_region() -> None:
    """Example numbers of each region with their last digits changed: valid and invalid ones."""
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if example is None:
            continue
        national = phonenumbers.national_significant_number(example)
        variants = [national[:cut] + "7" * (len(national) - cut) for cut in range(len(national))]
        texts = [f"+{example.country_code} {v}" for v in variants] + variants
        reader = PhoneReader(region)
        for text, got in zip(texts, reader.sent(texts), strict=True):
            assert got == (sent_phone(text, region) or text), (region, text)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(_PHONE_TEXT, st.text(max_size=12)), min_size=1, max_size=8))
def test_any_phone_text_ends_valid_or_invalid(tmp_path: Path, cells: list[str]) -> None:
    cells = [cell.replace("\x00", "") for cell in cells]
    chunk = validate_csv(tmp_path, PHONE, "Mobile", cells, extra=INDIA)
    valid = set(chunk.values.index)
    invalid = set(chunk.invalid_rows)
    assert not valid & invalid
    assert all(
        re.fullmatch(r"\+[0-9]{1,3}-[0-9]+|", v) for v in sent(chunk, "opportunity.mx_Custom_3")
    )


# ---------------------------------------------------------------- amounts

AMOUNT = "mx_Custom_6: {column: Loan Amount, type: number, min: 0}\n"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("₹ 1,20,000", "120000"),
        ("Rs. 50,000", "50000"),
        ("Rs 50000", "50000"),
        ("INR 50,000", "50000"),
        ("1,20,000/-", "120000"),
        ("Rs. 1,20,000/-", "120000"),
        ("$1,200.50", "1200.5"),
        ("50,000.00 INR", "50000"),
        ("₹500", "500"),
        ("1,20,000", "120000"),
    ],
)
def test_amounts_with_currency_and_indian_grouping(
    tmp_path: Path, cell: str, expected: str
) -> None:
    chunk = validate_csv(tmp_path, AMOUNT, "Loan Amount", [cell])
    assert chunk.errors == []
    assert sent(chunk, "opportunity.mx_Custom_6") == [expected]


@pytest.mark.parametrize("cell", ["Rs.", "₹ lots", "INR 5,0", "1,20,000 /- extra", "$$5", "₹1₹2"])
def test_garbage_amounts_stay_invalid(tmp_path: Path, cell: str) -> None:
    chunk = validate_csv(tmp_path, AMOUNT, "Loan Amount", [cell])
    assert messages(chunk) == [f'Row 2, Loan Amount: "{cell}" is not a number']


_AMOUNT_TEXT = st.one_of(
    st.builds(
        lambda before, number, after: f"{before}{number}{after}",
        st.sampled_from(["", "₹", "₹ ", "Rs. ", "Rs", "INR ", "$", "-", "€"]),
        st.from_regex(r"[0-9]{1,3}(,[0-9]{2,3}){0,3}(\.[0-9]{0,3})?", fullmatch=True),
        st.sampled_from(["", "/-", " INR", " /-", "%", ".."]),
    ),
    st.text(alphabet="0123456789,.₹Rs $/-INR", max_size=16),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_AMOUNT_TEXT, min_size=1, max_size=8))
def test_any_amount_text_ends_valid_or_invalid(tmp_path: Path, cells: list[str]) -> None:
    chunk = validate_csv(tmp_path, "mx_Custom_6: {column: A, type: number}\n", "A", cells)
    valid = set(chunk.values.index)
    assert not valid & set(chunk.invalid_rows)
    assert len(valid) + len(chunk.invalid_rows) == len(cells)  # the email keeps every row
    for value in sent(chunk, "opportunity.mx_Custom_6"):
        assert re.fullmatch(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?|", value)


# ---------------------------------------------------------------- dates

DATE = "mx_Custom_8: {column: Close, type: date}\n"
WHEN = "mx_Custom_9: {column: Close, type: datetime}\n"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("15-Jan-2026", "2026-01-15"),
        ("19 Jan 2026", "2026-01-19"),
        ("15/01/2026", "2026-01-15"),
        ("2026/01/15", "2026-01-15"),
        ("15.01.2026", "2026-01-15"),
        ("January 19, 2026", "2026-01-19"),
        ("19th January 2026", "2026-01-19"),
        ("03/04/2026", "2026-04-03"),
        ("12/31/2026", "2026-12-31"),
        ("15/01/2026 00:00", "2026-01-15"),
    ],
)
def test_plain_order_dates_need_no_format(tmp_path: Path, cell: str, expected: str) -> None:
    chunk = validate_csv(tmp_path, DATE, "Close", [cell])
    assert chunk.errors == []
    assert sent(chunk, "opportunity.mx_Custom_8") == [expected]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("15/01/2026 02:30 PM", "2026-01-15 14:30:00"),
        ("15/01/2026 12:05 am", "2026-01-15 00:05:00"),
        ("19 Jan 2026 14:05", "2026-01-19 14:05:00"),
        ("2026/01/15 9:07:03", "2026-01-15 09:07:03"),
    ],
)
def test_plain_order_datetimes_with_am_pm(tmp_path: Path, cell: str, expected: str) -> None:
    chunk = validate_csv(tmp_path, WHEN, "Close", [cell])
    assert chunk.errors == []
    assert sent(chunk, "opportunity.mx_Custom_9") == [expected]


@pytest.mark.parametrize(("order", "expected"), [("MDY", "2026-03-04"), ("DMY", "2026-04-03")])
def test_date_order_settles_ambiguous_dates(tmp_path: Path, order: str, expected: str) -> None:
    chunk = validate_csv(
        tmp_path, DATE, "Close", ["03/04/2026", "15/01/2026"], extra=f"date_order: {order}\n"
    )
    assert sent(chunk, "opportunity.mx_Custom_8") == [expected, "2026-01-15"]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("31/02/2026", '"31/02/2026": February has no 31st'),
        ("29/02/2025", '"29/02/2025": February has no 29th in 2025'),
        ("13/13/2026", '"13/13/2026": there is no month 13'),
        (
            "31-Foo-2026",
            '"31-Foo-2026" is not a date; write it like 2026-01-15, 15/01/2026 or 15-Jan-2026',
        ),
        (
            "15 01 2026",
            '"15 01 2026" is not a date lsq-import can read on its own; '
            'add format: "%d %m %Y" to this field in the mapping',
        ),
    ],
)
def test_wrong_dates_say_why(tmp_path: Path, cell: str, reason: str) -> None:
    chunk = validate_csv(tmp_path, DATE, "Close", [cell])
    assert messages(chunk) == [f"Row 2, Close: {reason}"]


def test_real_date_cells_keep_working(tmp_path: Path) -> None:
    import datetime as dt

    path = tmp_path / "dates.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Email", "Close"])
    sheet.write(1, 0, "a@example.com")
    sheet.write_datetime(
        1, 1, dt.datetime(2026, 1, 15), book.add_format({"num_format": "dd/mm/yyyy"})
    )
    book.close()
    mapping = tmp_path / "test.yaml"
    mapping.write_text(HEAD.format(extra="", fields="  " + DATE), encoding="utf-8")
    chunk = validate_file(path, mapping)
    assert sent(chunk, "opportunity.mx_Custom_8") == ["2026-01-15"]


# ---------------------------------------------------------------- invisible characters


def test_invisible_characters_are_removed_where_harmless(tmp_path: Path) -> None:
    fields = PHONE + AMOUNT + DATE + "mx_Custom_1: {column: Name}\n"
    mapping = tmp_path / "test.yaml"
    mapping.write_text(
        HEAD.format(extra=INDIA, fields=textwrap.indent(fields, "  ")), encoding="utf-8"
    )
    data = tmp_path / "input.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Email", "Mobile", "Loan Amount", "Close", "Name"])
        writer.writerow(
            [
                "\ufeffa@example.com\u200b",
                "98765\u200b43210",
                "\u00a0₹\u00a01,20,000\u200d",
                "15\u2009Jan\u20092026",
                "\u200bAsha\u00a0Rao\u200b",
            ]
        )
    chunk = validate_file(data, mapping)
    assert chunk.errors == []
    row = chunk.values.iloc[0]
    assert row["lead.EmailAddress"] == "a@example.com"
    assert row["opportunity.mx_Custom_3"] == "+91-9876543210"
    assert row["opportunity.mx_Custom_6"] == "120000"
    assert row["opportunity.mx_Custom_8"] == "2026-01-15"
    assert row["opportunity.mx_Custom_1"] == "Asha Rao"


def test_an_invisible_character_inside_an_email_is_named(tmp_path: Path) -> None:
    validate_csv(tmp_path, "mx_Custom_1: {column: Name}\n", "Name", ["x"])  # writes the mapping
    mapping = tmp_path / "test.yaml"
    data = tmp_path / "input.csv"
    data.write_text("Email,Name\nas\u200bha@example.com,x\n", encoding="utf-8")
    chunk = validate_file(data, mapping)
    assert messages(chunk) == [
        'Row 2, Email: "as\u200bha@example.com" contains an invisible character '
        "(zero-width space); retype the address"
    ]


# ---------------------------------------------------------------- Excel errors in CSV text


@pytest.mark.parametrize(
    "code",
    [
        "#N/A",
        "#REF!",
        "#DIV/0!",
        "#VALUE!",
        "#NAME?",
        "#NULL!",
        "#NUM!",
        "#SPILL!",
        "#CALC!",
        "#GETTING_DATA",
    ],
)
def test_excel_error_texts_in_a_csv_make_the_row_invalid(tmp_path: Path, code: str) -> None:
    chunk = validate_csv(tmp_path, AMOUNT, "Loan Amount", [code, "5"])
    assert messages(chunk) == [
        f"Row 2, Loan Amount: the cell shows the Excel error {code}; "
        "fix the formula or type the value"
    ]
    assert sent(chunk, "opportunity.mx_Custom_6") == ["5"]


def test_an_excel_error_in_a_text_column_is_not_sent(tmp_path: Path) -> None:
    chunk = validate_csv(tmp_path, "mx_Custom_1: {column: Name}\n", "Name", ["#N/A", "Asha"])
    assert messages(chunk) == [
        "Row 2, Name: the cell shows the Excel error #N/A; fix the formula or type the value"
    ]


def test_error_cells_of_a_workbook_and_unsaved_formulas(tmp_path: Path) -> None:
    """xlsxwriter writes cached error values; openpyxl writes formulas without values."""
    errors = tmp_path / "errors.xlsx"
    book = xlsxwriter.Workbook(errors)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Email", "Loan Amount"])
    sheet.write_column(1, 0, ["a@example.com", "b@example.com", "c@example.com"])
    sheet.write_formula(1, 1, "=NA()", None, "#N/A")
    sheet.write_formula(2, 1, "=2+3", None, 5)
    sheet.write_formula(3, 1, "=1/0", None, "#DIV/0!")
    book.close()
    mapping = tmp_path / "test.yaml"
    mapping.write_text(HEAD.format(extra="", fields="  " + AMOUNT), encoding="utf-8")
    chunk = validate_file(errors, mapping)
    assert messages(chunk) == [
        "Row 2, Loan Amount: the cell shows the Excel error #N/A; "
        "fix the formula or type the value",
        "Row 4, Loan Amount: the cell shows the Excel error #DIV/0!; "
        "fix the formula or type the value",
    ]
    assert sent(chunk, "opportunity.mx_Custom_6") == ["5"]

    unsaved = tmp_path / "unsaved.xlsx"
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.append(["Email", "Loan Amount"])
    ws.append(["a@example.com", "=SUM(1,2)"])
    ws.append(["b@example.com", 7])
    workbook.save(unsaved)
    chunk = validate_file(unsaved, mapping)
    assert messages(chunk) == [
        "Row 2, Loan Amount: the cell holds a formula that was never calculated; "
        "open and save the file in Excel, or paste values"
    ]
    assert sent(chunk, "opportunity.mx_Custom_6") == ["7"]


def test_every_number_pattern_of_the_metadata_is_read_without_a_private_module() -> None:
    """The depth reader knows the whole regular subset libphonenumber's patterns use."""
    from phonenumbers import PhoneMetadata
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    from importer.rules.values.phones import _DESCS, _pattern_depth

    assert _pattern_depth("[6-9]\\d{9}") == 1
    assert _pattern_depth("(?:1[1-9]|[2-9]\\d)\\d{7,8}") == 2
    assert _pattern_depth("\\d{5,}") == 0  # any digits, however many: no digit decides
    assert _pattern_depth("9\\d{5,}") == 1
    assert _pattern_depth("(?:9\\d)+") is None  # a deciding digit repeated without limit
    for code, regions in COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            metadata = PhoneMetadata.metadata_for_region(region)
            metadata = metadata or PhoneMetadata.metadata_for_nongeo_region(code)
            for name in _DESCS:
                desc = getattr(metadata, name, None)
                if desc is not None and desc.national_number_pattern:
                    assert _pattern_depth(desc.national_number_pattern) is not None


def test_the_bulk_phone_path_keeps_leading_zeros_of_the_deciding_digits() -> None:
    """National numbers that start with 0 (Italy's landlines, Côte d'Ivoire's numbers)."""
    for region in ("IT", "CI", "SM"):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            national = phonenumbers.national_significant_number(example)
            texts = [f"+{example.country_code} {national}", f"+{example.country_code} 0{national}"]
            reader = PhoneReader(None)
            for text, got in zip(texts, reader.sent(texts), strict=True):
                assert got == (sent_phone(text, None) or text), (region, text)


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("2.5L", "250000"),
        ("2.5 lakh", "250000"),
        ("Rs. 2.5 lakhs", "250000"),
        ("12 lac", "1200000"),
        ("1.5 Cr", "15000000"),
        ("1.5 crore", "15000000"),
        ("₹1.5cr", "15000000"),
        ("3L/-", "300000"),
        ("0.75 L", "75000"),
        ("L", "L"),  # no number: left for the check to refuse
    ],
)
def test_amounts_in_lakh_and_crore(text: str, sent: str) -> None:
    from importer.rules.checks.normalise import _sent_numbers, sent_number

    assert sent_number(text) == sent
    assert _sent_numbers([text]) == [sent]


@pytest.mark.parametrize(
    "text", ["0091 98765 43210", "091 98765 43210", "91 98765 43210", "0919876543210"]
)
def test_phones_with_a_trunk_or_international_prefix_before_the_country_code(text: str) -> None:
    assert sent_phone(text, "IN") == "+91-9876543210"
    assert PhoneReader("IN").sent([text]) == ["+91-9876543210"]
