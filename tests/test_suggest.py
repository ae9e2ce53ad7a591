"""`map suggest`: drafts from real files, re-targeting with --from, and the CLI around them."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

from importer import Suggestion, suggest_mapping, validate_file
from importer.cli import app
from importer.core.errors import UserError
from importer.rules.mapping.mapping_file import load_mapping

CITIES = ["Pune", "Mumbai", "Chennai", "Kochi", "Delhi"]
STAGES = ["Prospecting", "New", "Qualified"]
STATUSES = ["Open", "Open", "Won", "Lost"]


def loan_rows(count: int = 24) -> list[dict[str, str]]:
    """Rows of a loan export, by meaning; each test spells the headers its own way."""
    rows = []
    for i in range(count):
        status = STATUSES[i % 4]
        rows.append(
            {
                "email": f"lead{i}@example.com",
                "first": f"First{i}",
                "last": f"Last{i}",
                "mobile": f"98{i:08d}",
                "city": CITIES[i % 5],
                "deal": f"Home loan {i}",
                "stage": STAGES[i % 3],
                "amount": f"{(i + 1) * 50_000:,}",
                "close": f"{(i % 27) + 1:02d}/0{(i % 9) + 1}/2026",
                "status": status,
                "comment": "Papers done" if status != "Open" else "",
                "notes": "Call back" if i % 2 else "",
                "when": f"2026-01-{(i % 27) + 1:02d} 10:30:00",
            }
        )
    return rows


CLEAN = {
    "email": "Email",
    "first": "First Name",
    "last": "Last Name",
    "mobile": "Mobile",
    "city": "City",
    "deal": "Opportunity Name",
    "stage": "Stage",
    "amount": "Loan Amount",
    "close": "Expected Close",
    "status": "Status",
    "comment": "Status Comment",
    "notes": "Notes",
    "when": "Opportunity Date",
}


def write_csv(path: Path, headers: dict[str, str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(headers.values()))
        writer.writerows([[row[key] for key in headers] for row in rows])
    return path


def targets(suggestion: Suggestion) -> dict[str, str]:
    """Column → target of every placed column."""
    return {m.column: m.target for m in suggestion.matches if m.target and m.confidence >= 0.8}


def save(suggestion: Suggestion, path: Path) -> Path:
    path.write_text(suggestion.yaml_text, encoding="utf-8")
    return path


# --- from scratch -----------------------------------------------------------


def test_clean_file_drafts_a_mapping_validate_accepts(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "loans.csv", CLEAN, loan_rows())
    suggestion = suggest_mapping(data, event_code=12000)
    assert targets(suggestion) == {
        "Email": "lead.EmailAddress",
        "First Name": "lead.FirstName",
        "Last Name": "lead.LastName",
        "Mobile": "lead.Mobile",
        "City": "lead.mx_City",
        "Opportunity Name": "opportunity.mx_Custom_1",
        "Stage": "opportunity.mx_Custom_2",
        "Status": "opportunity.Status",
        "Status Comment": "opportunity.mx_Custom_19",
        "Notes": "note",
        "Opportunity Date": "datetime",
    }
    assert suggestion.todo == ["Loan Amount", "Expected Close"]
    assert suggestion.exit_code == 0
    mapping = load_mapping(save(suggestion, tmp_path / "loans.mapping.yaml"))
    assert mapping.opportunity_event_code == 12000
    assert mapping.search_by == "EmailAddress"
    assert mapping.unique == ["EmailAddress", "mx_Custom_1"]
    assert mapping.lead["EmailAddress"].type == "email"
    assert mapping.lead["EmailAddress"].required
    assert mapping.lead["Mobile"].type == "phone"
    assert mapping.lead["mx_City"].allowed is None  # a city is free text, however few
    assert mapping.opportunity["mx_Custom_2"].allowed == STAGES
    assert sorted(mapping.opportunity["Status"].allowed or []) == ["Lost", "Open", "Won"]
    assert mapping.opportunity["mx_Custom_19"].required_if == {"Status": ["Won", "Lost"]}
    assert not mapping.opportunity["mx_Custom_19"].required
    assert mapping.note is not None and not mapping.note.required  # half the notes are blank
    assert mapping.datetime is not None and mapping.datetime.type == "datetime"
    report = validate_file(data, mapping.source or "", write_report=False)
    assert (report.rows_read, report.invalid) == (24, 0)
    # the columns it could not place are written for the user, commented, with their types
    text = suggestion.yaml_text
    assert "# mx_Custom_?: {column: Loan Amount, type: number, required: true}" in text
    assert '# mx_Custom_?: {column: Expected Close, type: date, format: "%d/%m/%Y"' in text


def test_every_placed_line_says_how_sure_and_why(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "loans.csv", CLEAN, loan_rows())
    text = suggest_mapping(data, event_code=12000).yaml_text
    line = next(line for line in text.splitlines() if line.strip().startswith("EmailAddress:"))
    assert re.search(r"# 100%: .*usual name for the email address.*email addresses", line)
    assert "lsq-import validate loans.csv -m loans.mapping.yaml" in text


INDIAN = {
    "email": "E-mail ID",
    "first": "Customer First Name",
    "last": "Surname",
    "mobile": "Mobile No.",
    "city": "City/Town",
    "amount": "Loan Amt (₹)",
    "close": "Exp. Disbursal",
    "notes": "Remarks",
}


def test_indian_crm_headers(tmp_path: Path) -> None:
    rows = loan_rows()
    for i, row in enumerate(rows):
        row["amount"] = f"₹ {row['amount']}"
        row["close"] = f"{(i % 27) + 1:02d}-Jan-2026"
        row["mobile"] = f"+91 98{i:03d} {i:05d}"
        row["pin"] = f"4110{i % 10:02d}"
        row["source"] = ["Website", "Referral", "Walk-in"][i % 3]
        row["phone"] = f"020-2{i:07d}"
    headers = {
        **INDIAN,
        "pin": "PIN Code",
        "source": "Lead Source",
        "phone": "Contact Number",
    }
    data = write_csv(tmp_path / "crm.csv", headers, rows)
    suggestion = suggest_mapping(data, event_code=12000)
    placed = targets(suggestion)
    assert placed == {
        "E-mail ID": "lead.EmailAddress",
        "Customer First Name": "lead.FirstName",
        "Surname": "lead.LastName",
        "Mobile No.": "lead.Mobile",
        "City/Town": "lead.mx_City",
        "Remarks": "note",
        "PIN Code": "lead.mx_Zip",
        "Lead Source": "lead.Source",
    }
    mapping = load_mapping(save(suggestion, tmp_path / "crm.mapping.yaml"))
    assert mapping.lead["Source"].allowed == ["Website", "Referral", "Walk-in"]
    assert "default_country: IN" in suggestion.yaml_text
    # "Contact Number" names a mobile, but the mobile is taken and its values are landlines
    assert "Contact Number" in suggestion.todo
    assert '{column: Exp. Disbursal, type: date, format: "%d-%b-%Y"' in suggestion.yaml_text
    assert validate_file(data, mapping.source or "", write_report=False).invalid == 0


@pytest.mark.parametrize(
    ("country", "phone", "sent"),
    [
        # 07400 100000 is also an Indian mobile with a trunk 0: the +44 ones decide
        ("GB", lambda i: f"{'+44 ' if i % 4 == 3 else '0'}7400 {100000 + i * 37:06d}",
         "+44-7400100000"),
        ("US", lambda i: f"({[212, 415, 312, 617, 713][i % 5]}) {234 + i:03d}-{1000 + i * 7:04d}",
         "+1-2122341000"),
    ],
)  # fmt: skip
def test_default_country_is_the_one_most_phones_fit(
    tmp_path: Path, country: str, phone: object, sent: str
) -> None:
    rows = loan_rows()
    for i, row in enumerate(rows):
        row["mobile"] = phone(i)  # type: ignore[operator]
    data = write_csv(tmp_path / f"{country}.csv", CLEAN, rows)
    suggestion = suggest_mapping(data, event_code=12000)
    assert f"default_country: {country}" in suggestion.yaml_text
    mapping = load_mapping(save(suggestion, tmp_path / f"{country}.mapping.yaml"))
    assert mapping.default_country == country
    report = validate_file(data, mapping.source or "", write_report=False)
    assert report.invalid == 0
    _, body = report.preview[0]
    assert {"Attribute": "Mobile", "Value": sent} in body["LeadDetails"]


def test_phones_of_many_countries_get_no_default_country(tmp_path: Path) -> None:
    rows = loan_rows()
    for i, row in enumerate(rows):
        row["mobile"] = f"98{i:08d}" if i % 2 else f"+44 7400 {100000 + i * 37:06d}"
    data = write_csv(tmp_path / "mixed.csv", CLEAN, rows)
    suggestion = suggest_mapping(data, event_code=12000)
    assert "default_country" not in suggestion.yaml_text


def test_ambiguous_matches_are_not_guessed(tmp_path: Path) -> None:
    rows = loan_rows()
    for row in rows:
        row["email2"] = row["email"].replace("example.com", "example.org")
    headers = {"email": "Email", "email2": "E-mail", "first": "Name", "mobile": "Mobile No"}
    data = write_csv(tmp_path / "two.csv", headers, rows)
    suggestion = suggest_mapping(data, event_code=12000)
    placed = targets(suggestion)
    assert "Email" not in placed and "E-mail" not in placed
    assert placed["Mobile No"] == "lead.Mobile"
    assert suggestion.todo[:2] == ["Email", "E-mail"]
    text = suggestion.yaml_text
    assert "# TODO not guessed:" in text
    assert "#   EmailAddress" not in text  # offered as commented lines, not written
    assert "  # EmailAddress: {column: Email, type: email, required: true}" in text
    assert "  # EmailAddress: {column: E-mail, type: email, required: true}" in text
    mapping = load_mapping(save(suggestion, tmp_path / "two.mapping.yaml"))
    assert "EmailAddress" not in mapping.lead
    assert mapping.search_by == "Mobile"  # the next way to find a lead


def test_weak_match_is_offered_not_placed(tmp_path: Path) -> None:
    rows = loan_rows()
    headers = {"email": "Email", "first": "First Name", "when": "Expected Close Date"}
    data = write_csv(tmp_path / "weak.csv", headers, rows)
    suggestion = suggest_mapping(data, event_code=12000)
    assert "Expected Close Date" not in targets(suggestion)
    assert '# TODO 79%, maybe: "Expected Close Date" is like "date"' in suggestion.yaml_text
    assert "# datetime: {column: Expected Close Date" in suggestion.yaml_text


def test_without_event_code_validate_names_what_to_fill(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "loans.csv", CLEAN, loan_rows())
    suggestion = suggest_mapping(data)
    assert "opportunity_event_code: 0   # TODO" in suggestion.yaml_text
    mapping_file = save(suggestion, tmp_path / "loans.mapping.yaml")
    with pytest.raises(UserError, match=r"line \d+ \(opportunity_event_code\): is 0; write your"):
        validate_file(data, mapping_file, write_report=False)


def test_title_row_above_the_headers(tmp_path: Path) -> None:
    data = tmp_path / "export.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Leads"
    sheet.append(["Leads export 01-Dec-2026"])
    sheet.append([])
    sheet.append(list(CLEAN.values()))
    for row in loan_rows():
        sheet.append([row[key] for key in CLEAN])
    workbook.save(data)
    suggestion = suggest_mapping(data, event_code=12000)
    assert suggestion.header_row == 3
    assert targets(suggestion)["Email"] == "lead.EmailAddress"
    assert "headers on row 3" in suggestion.yaml_text
    assert any("headers are on row 3" in note for note in suggestion.notes)
    report = validate_file(data, save(suggestion, tmp_path / "m.yaml"), write_report=False)
    assert (report.rows_read, report.invalid) == (24, 0)


def write_read_me_workbook(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Read me"
    for text in ("How to use this file", "Fill one row per lead", "Do not rename columns"):
        notes.append([text])
    leads = workbook.create_sheet("Leads")
    leads.append(list(CLEAN.values()))
    for row in loan_rows():
        leads.append([row[key] for key in CLEAN])
    workbook.save(path)
    return path


def test_read_me_first_sheet_is_passed_over(tmp_path: Path) -> None:
    data = write_read_me_workbook(tmp_path / "leads.xlsx")
    suggestion = suggest_mapping(data, event_code=12000)
    assert suggestion.sheet == "Leads"
    assert any(
        'read sheet "Leads"' in note and "--sheet Leads" in note for note in suggestion.notes
    )
    assert "lsq-import validate leads.xlsx -m leads.mapping.yaml --sheet Leads" in (
        suggestion.yaml_text
    )
    assert targets(suggestion)["Opportunity Name"] == "opportunity.mx_Custom_1"


# --- re-targeting (--from) ---------------------------------------------------

RENAMED = {
    **CLEAN,
    "email": "E-mail ID",
    "deal": "Deal Title",
    "stage": "Pipeline Stage",
    "notes": "Remarks",
    "close": "Exp. Closing Date",
}


def write_mapping(path: Path) -> Path:
    path.write_text(
        (Path(__file__).parent.parent / "mappings" / "loan.yaml").read_text(encoding="utf-8")
    )
    return path


def test_renamed_headers_are_retargeted_keeping_rules_and_comments(tmp_path: Path) -> None:
    old = write_mapping(tmp_path / "loan.yaml")
    data = write_csv(tmp_path / "december.csv", RENAMED, loan_rows())
    suggestion = suggest_mapping(data, from_mapping=old)
    assert suggestion.exit_code == 0 and suggestion.todo == []
    renamed = {m.old_column: m.column for m in suggestion.matches if m.target}
    assert renamed["Email"] == "E-mail ID"
    assert renamed["Opportunity Name"] == "Deal Title"
    assert renamed["Stage"] == "Pipeline Stage"
    assert renamed["Notes"] == "Remarks"
    assert renamed["Expected Close"] == "Exp. Closing Date"
    assert renamed["Loan Amount"] == "Loan Amount"
    before = old.read_text().splitlines()
    after = suggestion.yaml_text.splitlines()
    for line in before:  # every line is still there, at most with its column renamed
        renamed_line = line
        for was, now in (("Email,", "E-mail ID,"), ("Stage,", "Pipeline Stage,")):
            if "{column: " + was in line:
                renamed_line = line.replace("{column: " + was, "{column: " + now)
        for was, now in (("Opportunity Name", "Deal Title"), ("Notes}", "Remarks}")):
            renamed_line = renamed_line.replace("{column: " + was, "{column: " + now)
        renamed_line = renamed_line.replace("Expected Close,", "Exp. Closing Date,")
        assert renamed_line in after, line
    assert any(line.strip().startswith('# was "Notes"') for line in after)
    new = load_mapping(save(suggestion, tmp_path / "december.mapping.yaml"))
    assert new.opportunity["mx_Custom_2"].allowed == STAGES
    assert new.opportunity["mx_Custom_2"].column == "Pipeline Stage"
    assert new.unique == ["EmailAddress", "mx_Custom_1"]
    report = validate_file(data, new.source or "", write_report=False)
    assert report.invalid == 0


def test_a_ruled_column_that_cannot_be_placed_is_a_todo_and_exit_1(tmp_path: Path) -> None:
    old = write_mapping(tmp_path / "loan.yaml")
    headers = {k: v for k, v in RENAMED.items() if k not in ("deal", "last")}
    headers["deal"] = "Ref"  # nothing says this is the opportunity name
    headers["city"] = "Branch"
    rows = loan_rows()
    data = write_csv(tmp_path / "december.csv", headers, rows)
    suggestion = suggest_mapping(data, from_mapping=old)
    assert suggestion.exit_code == 1
    assert suggestion.todo == ["Opportunity Name"]
    assert suggestion.dropped == ["Last Name", "City"]  # optional, no rules: commented out
    text = suggestion.yaml_text
    assert '# TODO: no column like "Opportunity Name"' in text
    assert "  # LastName: Last Name" in text
    new_file = save(suggestion, tmp_path / "december.mapping.yaml")
    load_mapping(new_file)  # still a valid mapping file
    with pytest.raises(UserError, match='no column "Opportunity Name"'):
        validate_file(data, new_file, write_report=False)


def test_values_decide_between_look_alike_headers(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(
        "version: 1\nopportunity_event_code: 1\nsearch_by: EmailAddress\n"
        "lead:\n  EmailAddress: {column: Email, type: email}\n"
        "opportunity:\n  mx_Custom_2: {column: Stage, allowed: [Prospecting, New, Qualified]}\n"
    )
    rows = loan_rows()
    for row in rows:
        row["other"] = "Stage " + row["city"]  # looks like a stage by name, not by values
    headers = {"email": "Mail", "other": "Stage Name", "stage": "Phase"}
    data = write_csv(tmp_path / "x.csv", headers, rows)
    suggestion = suggest_mapping(data, from_mapping=old)
    renamed = {m.old_column: m.column for m in suggestion.matches if m.target}
    assert renamed == {"Email": "Mail", "Stage": "Phase"}


def test_renamed_columns_are_placed_by_their_values_type(tmp_path: Path) -> None:
    """Dates, numbers and a datetime under unrelated names: the one column that fits each."""
    old = write_mapping(tmp_path / "loan.yaml")
    headers = {
        **CLEAN,
        "close": "Sanction By",
        "amount": "Ticket Size",
        "when": "Walk-in On",
        "mobile": "Contact",
    }
    data = write_csv(tmp_path / "january.csv", headers, loan_rows())
    suggestion = suggest_mapping(data, from_mapping=old)
    assert suggestion.exit_code == 0 and suggestion.todo == []
    placed = {m.old_column: (m.column, m.reason) for m in suggestion.matches if m.target}
    assert placed["Expected Close"][0] == "Sanction By"
    assert placed["Loan Amount"][0] == "Ticket Size"
    assert placed["Opportunity Date"][0] == "Walk-in On"
    assert "the only column whose values fit" in placed["Loan Amount"][1]
    new = load_mapping(save(suggestion, tmp_path / "january.mapping.yaml"))
    assert new.opportunity["mx_Custom_8"].format == ["%d/%m/%Y"]
    assert validate_file(data, new.source or "", write_report=False).invalid == 0


def test_two_columns_that_fit_by_type_are_named_not_guessed(tmp_path: Path) -> None:
    old = write_mapping(tmp_path / "loan.yaml")
    rows = loan_rows()
    for row in rows:
        row["follow"] = "05/02/2026"
    headers = {**CLEAN, "close": "Sanction By", "follow": "Follow-up On"}
    data = write_csv(tmp_path / "february.csv", headers, rows)
    suggestion = suggest_mapping(data, from_mapping=old)
    assert suggestion.todo == ["Expected Close"] and suggestion.exit_code == 1
    assert 'the values of "Sanction By" and "Follow-up On" fit its rules: choose one' in (
        suggestion.yaml_text
    )


def test_a_header_of_two_names_is_placed_by_the_half_that_names_a_field(tmp_path: Path) -> None:
    rows = loan_rows()
    for i, row in enumerate(rows):
        row["state"], row["company"] = ["Kerala", "Goa"][i % 2], f"Firm {i % 3}"
        row["both"] = f"{row['first']} {row['last']}"
    headers = {
        "email": "Email",
        "state": "State/Province",
        "company": "Company / Account",
        "both": "First/Last Name",
    }
    data = write_csv(tmp_path / "report.csv", headers, rows)
    placed = targets(suggest_mapping(data, event_code=12000))
    assert placed["State/Province"] == "lead.mx_State"
    assert placed["Company / Account"] == "lead.Company"
    # each half names another field, so the halves decide nothing: the whole header does,
    # and a full name goes where LeadSquared keeps one (FirstName), never to LastName
    assert placed.get("First/Last Name") == "lead.FirstName"


def test_a_header_named_for_another_field_is_not_taken_by_its_values(tmp_path: Path) -> None:
    old = write_mapping(tmp_path / "loan.yaml")
    rows = loan_rows()
    for i, row in enumerate(rows):
        row["pin"] = f"{411001 + i}"  # whole numbers at least 0, as the amount's rules ask
    headers = {**CLEAN, "amount": "Ticket Size", "pin": "PIN Code"}
    data = write_csv(tmp_path / "march.csv", headers, rows)
    suggestion = suggest_mapping(data, from_mapping=old)
    placed = {m.old_column: m.column for m in suggestion.matches if m.target and m.confidence}
    assert placed["Loan Amount"] == "Ticket Size"


# --- the CLI -------------------------------------------------------------------


def test_cli_writes_the_draft_and_refuses_to_overwrite(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "loans.csv", CLEAN, loan_rows())
    runner = CliRunner()
    done = runner.invoke(app, ["map", "suggest", str(data), "--event-code", "12000"])
    assert done.exit_code == 0, done.output
    written = tmp_path / "loans.mapping.yaml"
    assert written.is_file()
    assert re.search(r"Email\s+lead\.EmailAddress\s+100%", done.output)
    assert "Wrote " in done.output
    again = runner.invoke(app, ["map", "suggest", str(data)])
    assert again.exit_code == 2
    assert "already exists" in again.output and "--force" in again.output
    forced = runner.invoke(app, ["map", "suggest", str(data), "--force", "--quiet"])
    assert forced.exit_code == 0
    assert "opportunity_event_code: 0" in written.read_text()
    checked = runner.invoke(app, ["validate", str(data), "-m", str(written)])
    assert checked.exit_code == 2 and "opportunity_event_code" in checked.output


def test_cli_from_mapping_exit_code_and_out(tmp_path: Path) -> None:
    old = write_mapping(tmp_path / "loan.yaml")
    headers = {k: v for k, v in RENAMED.items() if k != "deal"}
    data = write_csv(tmp_path / "dec.csv", {**headers, "deal": "Ref"}, loan_rows())
    out = tmp_path / "fixed.yaml"
    done = CliRunner().invoke(
        app, ["map", "suggest", str(data), "--from", str(old), "--out", str(out)]
    )
    assert done.exit_code == 1, done.output
    assert "Notes → Remarks" in done.output
    assert "(TODO)" in done.output
    assert yaml.safe_load(out.read_text())["note"] == {"column": "Remarks"}


def test_cli_header_row_and_sheet_for_validate(tmp_path: Path) -> None:
    data = tmp_path / "titled.csv"
    rows = loan_rows()
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Leads export", "December"] + [""] * 11)
        writer.writerow(list(CLEAN.values()))
        writer.writerows([[row[k] for k in CLEAN] for row in rows])
    mapping = write_mapping(tmp_path / "loan.yaml")
    runner = CliRunner()
    wrong = runner.invoke(app, ["validate", str(data), "-m", str(mapping), "--header-row", "1"])
    assert wrong.exit_code == 2
    assert "the headers look like row 2: use --header-row 2" in wrong.output
    right = runner.invoke(app, ["validate", str(data), "-m", str(mapping), "--header-row", "2"])
    assert right.exit_code == 0, right.output
    assert "24 rows read" in right.output


def test_dates_that_read_both_ways_are_said_to_be_day_first(tmp_path: Path) -> None:
    rows = [
        {"email": f"p{i}@example.com", "when": f"0{1 + i % 9}/0{1 + (i * 7) % 9}/2026"}
        for i in range(30)
    ]
    data = write_csv(tmp_path / "dates.csv", {"email": "Email", "when": "Follow Up On"}, rows)

    suggestion = suggest_mapping(data, event_code=12000)

    line = next(x for x in suggestion.yaml_text.splitlines() if "Follow Up On" in x)
    assert '"%d/%m/%Y"' in line
    assert "day first assumed; if months come first, swap %d and %m" in line
