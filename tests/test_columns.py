"""A mapped column missing from the file: the header it became, or where the table really is."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from support import CAPTURE_HEAD

from importer import validate_file
from importer.core.errors import MissingColumns
from importer.rules.mapping.columns import resolve_columns
from importer.rules.mapping.header_names import alike, closest, header_words, similarity
from importer.rules.mapping.mapping import FieldSpec
from importer.rules.mapping.mapping_file import load_mapping
from importer.rules.suggest.profile import agreement, profile_column
from importer.rules.values.phones import phone_kind

MAPPING = (
    CAPTURE_HEAD
    + """\
lead:
  EmailAddress: {column: Email, type: email, required: true}
  FirstName: First Name
  Mobile: {column: Mobile, type: phone}
opportunity:
  mx_Custom_1: {column: Opportunity Name, required: true}
  mx_Custom_2: {column: Stage, allowed: [New, Won]}
note: {column: Notes}
"""
)
HEADERS = ["Email", "First Name", "Mobile", "Opportunity Name", "Stage", "Notes"]
ROW = ["a@example.com", "Asha", "9876543210", "Loan A", "New", "call"]


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "loan.yaml"
    path.write_text(MAPPING)
    return path


def message(mapping_file: Path, headers: list[str]) -> str:
    with pytest.raises(MissingColumns) as caught:
        resolve_columns(load_mapping(mapping_file), headers)
    return str(caught.value)


def test_renamed_header_is_offered(mapping_file: Path) -> None:
    headers = [h if h != "Notes" else "Remarks" for h in HEADERS]
    assert message(mapping_file, headers) == (
        'loan.yaml: the input has no column "Notes" (line 12, note): did you mean "Remarks"?'
    )


def test_several_renamed_headers_each_get_their_own(mapping_file: Path) -> None:
    renames = {"Notes": "Remarks", "Stage": "Pipeline Stage", "Mobile": "Mobile No."}
    text = message(mapping_file, [renames.get(h, h) for h in HEADERS])
    assert '"Mobile" (line 8, lead.Mobile): did you mean "Mobile No."?' in text
    assert '"Stage" (line 11, opportunity.mx_Custom_2): did you mean "Pipeline Stage"?' in text
    assert '"Notes" (line 12, note): did you mean "Remarks"?' in text
    assert "its columns are" not in text  # every one found its probable new name


def test_no_close_header_lists_the_columns(mapping_file: Path) -> None:
    headers = [h for h in HEADERS if h != "Opportunity Name"] + ["Tenure"]
    text = message(mapping_file, headers)
    assert '"Opportunity Name" (line 10, opportunity.mx_Custom_1); its columns are: "Email"' in text
    assert "did you mean" not in text


def test_a_header_is_offered_once(mapping_file: Path) -> None:
    headers = ["E-mail ID", "First Name", "Mobile", "Opportunity Name", "Stage", "Remarks"]
    text = message(mapping_file, headers)
    assert text.count('"Remarks"?') == 1 and text.count('"E-mail ID"?') == 1


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_header_row_hint(tmp_path: Path, mapping_file: Path) -> None:
    # a title as wide as a narrow table is read as headers: the user gave row 1
    data = write_csv(tmp_path / "x.csv", [["Leads", "Dec"], HEADERS, ROW])
    with pytest.raises(MissingColumns) as caught:
        validate_file(data, mapping_file, header_row=1, write_report=False)
    text = str(caught.value)
    assert text.startswith('loan.yaml: the input has no column "Email" (line 6, lead.EmailAddress)')
    assert text.endswith("; the headers look like row 2: use --header-row 2")
    assert "and 3 more" in text  # not a dump of every column
    report = validate_file(data, mapping_file, header_row=2, write_report=False)
    assert report.invalid == 0


def test_read_me_sheet_hint(tmp_path: Path, mapping_file: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Read me"
    workbook.active.append(["Fill one row per lead; do not rename the columns"])
    leads = workbook.create_sheet("Leads")
    leads.append(["Exported 01-Dec-2026"])
    leads.append(HEADERS)
    leads.append(ROW)
    data = tmp_path / "leads.xlsx"
    workbook.save(data)
    with pytest.raises(MissingColumns) as caught:
        validate_file(data, mapping_file, write_report=False)
    text = str(caught.value)
    assert text.endswith(
        '; read sheet "Read me"; sheet "Leads" has these columns: use --sheet Leads'
    )
    assert validate_file(data, mapping_file, sheet="Leads", write_report=False).invalid == 0


def test_other_sheet_with_its_headers_lower_down(tmp_path: Path, mapping_file: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["Leads", "Dec"])  # two words: read as headers
    leads = workbook.create_sheet("Lead Data")
    leads.append(["Exported", "01-Dec-2026", "by admin"])  # a title as wide as...
    leads.append(["Region", "West", ""])  # ...a key/value block: still not the table
    leads.append(HEADERS)
    leads.append(ROW)
    data = tmp_path / "leads.xlsx"
    workbook.save(data)
    with pytest.raises(MissingColumns, match='use --sheet "Lead Data"'):
        validate_file(data, mapping_file, write_report=False)


# --- header names ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("E-mail ID", ("email", "id")),
        ("Mob. No.", ("mobile",)),
        ("Cust Name", ("customer", "name")),
        ("City/Town", ("city", "town")),
        ("No.", ("number",)),
    ],
)
def test_header_words(text: str, words: tuple[str, ...]) -> None:
    assert header_words(text) == words


def test_similarity_orders_what_people_mean() -> None:
    assert similarity("Mobile No.", "mobile number") == 1.0
    assert similarity("Intake Year", "Year of Intake") == pytest.approx(0.95)
    assert 0.8 < similarity("Frist Name", "First Name") < 1.0
    assert similarity("Billing City", "City") == pytest.approx(0.75)
    assert similarity("Name", "LName") == 0.0  # short words are not typos of each other
    assert alike("Notes", "Remarks") == pytest.approx(0.9)  # synonyms
    assert alike("Email", "Registered Email", "lead.EmailAddress") >= 0.6
    assert closest("Stage", ["Status", "Pipeline Stage"]) == ("Pipeline Stage", pytest.approx(0.9))


# --- profiles ------------------------------------------------------------------


def test_profiles_read_types_and_formats() -> None:
    emails = ["a@x.com", "b@y.in", "c@z.org", "d@x.com", "bob@"]
    assert profile_column("x", emails).type == "email"  # one typo in five
    dates = profile_column("x", ["15-Jan-2026", "19-Feb-2026", ""])
    assert (dates.type, dates.formats, dates.blank) == ("date", ["%d-%b-%Y"], 1)
    times = profile_column("x", ["06/01/2025 10:30", "17/01/2025 14:20"])
    assert (times.type, times.formats, times.day_first_guess) == (
        "datetime",
        ["%d/%m/%Y %H:%M"],
        False,
    )
    assert profile_column("x", ["03/04/2026", "05/06/2026"]).day_first_guess
    assert profile_column("x", ["₹ 1,20,000", "Rs. 50,000", "1,20,000/-"]).type == "number"
    assert profile_column("x", ["2025", "2026"]).type == "integer"
    assert profile_column("x", ["yes", "No", "y", "maybe", "n"]).type == "boolean"
    assert profile_column("x", ["0", "1", "1"]).type == "integer"
    phones = profile_column("x", ["+91 98765 43210", "098765-43210", "9876543210.0"])
    assert (phones.type, phones.phone_country, phones.country_share, phones.mobile_like) == (
        "phone",
        "IN",
        1.0,
        1.0,
    )
    assert profile_column("x", ["2500000", "800000"]).type == "number"  # amounts, not phones
    assert phone_kind("(033) 2555 1234", "IN") == "landline"  # one phone reader for all
    assert phone_kind("098765-43210", "IN") == "mobile"
    assert phone_kind("+44 20 7946 0958", "IN") is None


def test_choices_need_enough_rows() -> None:
    few = profile_column("x", ["Open", "Won"] * 5)
    assert few.choices() is None
    many = profile_column("x", ["Open", "Won", "open", "Lost"] * 6)
    assert many.choices() == ["Open", "Won", "Lost"]  # spelled as first seen, most common first
    assert profile_column("x", [f"v{i}" for i in range(30)]).choices() is None


def test_agreement_with_old_rules() -> None:
    stage = FieldSpec(column="Stage", allowed=["New", "Won"])
    assert agreement(stage, profile_column("x", ["new", "Won", "New"])) == 1.0
    assert agreement(stage, profile_column("x", ["Pune", "Goa"])) == 0.0
    email = FieldSpec(column="Email", type="email", required=True)
    assert agreement(email, profile_column("x", ["a@x.com", ""])) == 0.5
    assert agreement(FieldSpec(column="Name"), profile_column("x", ["Asha"])) is None


def test_several_missing_point_at_map_suggest(tmp_path: Path, mapping_file: Path) -> None:
    renames = {"Notes": "Remarks", "Stage": "Pipeline Stage"}
    data = write_csv(tmp_path / "dec.csv", [[renames.get(h, h) for h in HEADERS], ROW])
    with pytest.raises(MissingColumns) as caught:
        validate_file(data, mapping_file, write_report=False)
    fit = f"lsq-import map suggest dec.csv --from {mapping_file}"
    assert str(caught.value).endswith(f"; to fit the mapping to these headers: {fit}")
