"""Mapping files: what loads, and the one-line message (with its line) for what does not."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from importer.core.errors import MappingError
from importer.rules.mapping.columns import resolve_columns
from importer.rules.mapping.mapping_file import load_mapping

ROOT = Path(__file__).resolve().parents[1]

CONTRACT_EXAMPLE = """\
version: 1
operation: capture            # capture | update
opportunity_event_code: 12000 # capture: the opportunity type code
search_by: EmailAddress
unique: [EmailAddress, mx_Custom_1]
options: {UpdateEmptyFields: true, DoNotPostDuplicateActivity: false, DoNotChangeOwner: true}
lead:
  EmailAddress: {column: Email, type: email, required: true}
  FirstName: First Name       # shorthand: the column name
  Mobile: {column: Mobile, type: phone}
opportunity:
  mx_Custom_1: {column: Opportunity Name, required: true, max_length: 200}
  mx_Custom_2: {column: Stage, allowed: [Prospecting, New, Qualified]}
  mx_Custom_6: {column: Loan Amount, type: number, min: 0}
  Status: {column: Status, allowed: [Open, Won, Lost], default: Open}
  mx_Custom_19: {column: Status Comment, required_if: {Status: [Won, Lost]}}
note: {column: Notes}
datetime: {column: Opportunity Date, type: datetime}
"""

UPDATE = """\
version: 1
operation: update
opportunity_id: {column: Opportunity Id}
opportunity:
  mx_Custom_6: {column: Amount, type: number}
note: Notes
"""


def write(tmp_path: Path, text: str, name: str = "loan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(MappingError) as caught:
        load_mapping(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_contract_example_loads_with_targets_in_file_order(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, CONTRACT_EXAMPLE))
    assert list(mapping.targets()) == [
        "lead.EmailAddress",
        "lead.FirstName",
        "lead.Mobile",
        "opportunity.mx_Custom_1",
        "opportunity.mx_Custom_2",
        "opportunity.mx_Custom_6",
        "opportunity.Status",
        "opportunity.mx_Custom_19",
        "note",
        "datetime",
    ]
    assert mapping.options == {
        "UpdateEmptyFields": True,
        "DoNotPostDuplicateActivity": False,
        "DoNotChangeOwner": True,
    }
    assert mapping.targets()["opportunity.mx_Custom_6"].line == 14
    assert mapping.source == tmp_path / "loan.yaml"


def test_shorthand_is_a_column(tmp_path: Path) -> None:
    spec = load_mapping(write(tmp_path, CONTRACT_EXAMPLE)).lead["FirstName"]
    assert (spec.column, spec.value, spec.type, spec.required) == (
        "First Name",
        None,
        "string",
        False,
    )


def test_yaml_numbers_and_booleans_become_text(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace(
        "note: {column: Notes}",
        "note: {value: 5}\nopportunity_id_free: 1",
    ).replace("opportunity_id_free: 1", "")
    text = text.replace(
        "  Mobile: {column: Mobile, type: phone}",
        "  Mobile: {column: Mobile, type: phone}\n  mx_Flag: {value: yes, type: boolean}\n"
        "  mx_Code: {column: 2024, allowed: [1, 2]}",
    )
    mapping = load_mapping(write(tmp_path, text))
    assert mapping.note is not None and mapping.note.value == "5"
    assert mapping.lead["mx_Flag"].value == "true"
    assert mapping.lead["mx_Code"].column == "2024"
    assert mapping.lead["mx_Code"].allowed == ["1", "2"]


def test_format_accepts_a_string_or_a_list(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace(
        "datetime: {column: Opportunity Date, type: datetime}",
        'datetime: {column: Opportunity Date, type: datetime, format: "%d/%m/%Y %H:%M"}\n',
    ).replace(
        "  mx_Custom_6: {column: Loan Amount, type: number, min: 0}",
        "  mx_Custom_6: {column: Loan Amount, type: number, min: 0}\n"
        '  mx_Custom_8: {column: Close, type: date, format: ["%d/%m/%Y", "%d-%m-%Y"]}',
    )
    mapping = load_mapping(write(tmp_path, text))
    assert mapping.datetime is not None and mapping.datetime.format == ["%d/%m/%Y %H:%M"]
    assert mapping.opportunity["mx_Custom_8"].format == ["%d/%m/%Y", "%d-%m-%Y"]


def test_update_mapping_loads(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, UPDATE))
    assert mapping.operation == "update"
    assert list(mapping.targets()) == ["opportunity_id", "opportunity.mx_Custom_6", "note"]


def test_share_access_word_is_a_constant(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE + "share: {user_id: Owner Id, access: edit, duration_minutes: 1440}\n"
    mapping = load_mapping(write(tmp_path, text))
    assert mapping.share is not None
    assert mapping.share.user_id.column == "Owner Id"
    assert mapping.share.access.value == "edit"
    assert mapping.share.duration_minutes == 1440
    assert list(mapping.targets())[-2:] == ["share.user_id", "share.access"]


@pytest.mark.parametrize("name", ["loan.yaml", "admission.yaml"])
def test_shipped_mappings_load(name: str) -> None:
    mapping = load_mapping(ROOT / "mappings" / name)
    assert mapping.operation == "capture"
    assert all(spec.line for spec in mapping.targets().values())


def test_find_target_prefers_opportunity_then_lead(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace(
        "  Mobile: {column: Mobile, type: phone}", "  Mobile: Mobile\n  Status: Lead Status"
    )
    mapping = load_mapping(write(tmp_path, text))
    assert mapping.find_target("Status") == "opportunity.Status"
    assert mapping.find_target("EmailAddress") == "lead.EmailAddress"
    assert mapping.find_target("note") == "note"
    assert mapping.find_target("Nope") is None


# ---------------------------------------------------------------- errors, each with its line


def test_unknown_type_names_file_line_key_and_choices(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace("type: number, min: 0", "type: money, min: 0")
    assert error_of(tmp_path, text) == (
        'loan.yaml line 14 (opportunity.mx_Custom_6): unknown type "money"; use one of '
        "string, email, phone, number, integer, date, datetime, boolean"
    )


def test_missing_file() -> None:
    with pytest.raises(MappingError, match="does not exist"):
        load_mapping("/nonexistent/loan.yaml")


def test_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace(
        "  Mobile: {column: Mobile, type: phone}", "  Mobile: {column: [}"
    )
    message = error_of(tmp_path, text)
    assert message == (
        "loan.yaml line 10 has a bracket or comma where a value should be; "
        "check that every [ and { there is closed and holds values"
    )


def test_unknown_top_level_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, CONTRACT_EXAMPLE + "colour: red\n")
    assert message.startswith('loan.yaml line 19 (colour): unknown top-level key "colour"')


def test_unknown_field_key(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace("max_length: 200", "maxlen: 200")
    assert error_of(tmp_path, text).startswith(
        'loan.yaml line 12 (opportunity.mx_Custom_1): unknown key "maxlen"; use one of column'
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("opportunity_event_code: 12000 # capture: the opportunity type code\n", "",
         "loan.yaml line 2 (opportunity_event_code): missing"),
        ("search_by: EmailAddress\n", "", "loan.yaml line 2 (search_by): missing"),
        ("search_by: EmailAddress", "search_by: Phone",
         'loan.yaml line 4 (search_by): "Phone" is not mapped under lead'),
        ("version: 1", "version: 2", "loan.yaml line 1 (version): version 2 is not supported"),
        ("unique: [EmailAddress, mx_Custom_1]", "unique: [EmailAddress, mx_Custom_9]",
         'loan.yaml line 5 (unique): "mx_Custom_9" is not a mapped field'),
        ("required_if: {Status: [Won, Lost]}", "required_if: {Stat: [Won]}",
         'loan.yaml line 16 (opportunity.mx_Custom_19): required_if names "Stat"'),
        ("required_if: {Status: [Won, Lost]}", "required_if: {Status: [Wonn]}",
         'loan.yaml line 16 (opportunity.mx_Custom_19): required_if value "Wonn" is not one of'),
        ("note: {column: Notes}", "note: {column: Notes, value: x}",
         "loan.yaml line 17 (note): give exactly one of column (a header) or value (a constant)"),
        ("note: {column: Notes}", "note: {type: string}",
         "loan.yaml line 17 (note): give exactly one of column"),
        ("type: number, min: 0", "type: number, min: 5, max: 1",
         "loan.yaml line 14 (opportunity.mx_Custom_6): min 5 is greater than max 1"),
        ("max_length: 200", 'pattern: "([a-z"',
         'loan.yaml line 12 (opportunity.mx_Custom_1): pattern "([a-z" is not a valid regular'),
        ("max_length: 200", "max_length: lots",
         'loan.yaml line 12 (opportunity.mx_Custom_1): max_length must be a whole number'),
        ("DoNotChangeOwner: true}", "DoNotChange: true}",
         'loan.yaml line 6 (options.DoNotChange): unknown option "DoNotChange"'),
        ("note: {column: Notes}", "note: {column: Notes}\nnote: {column: Other}",
         "loan.yaml line 18 (note): key repeated (first at line 17)"),
        ("{column: Stage, allowed", "{column: Stage, type: string, min: 1, allowed",
         "loan.yaml line 13 (opportunity.mx_Custom_2): min/max apply only to number and integer"),
    ],
)  # fmt: skip
def test_mapping_errors_name_the_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in CONTRACT_EXAMPLE
    assert error_of(tmp_path, CONTRACT_EXAMPLE.replace(old, new)).startswith(expected)


def test_capture_without_lead(tmp_path: Path) -> None:
    text = "version: 1\nopportunity_event_code: 12000\nsearch_by: EmailAddress\n"
    assert error_of(tmp_path, text).startswith("loan.yaml line 1 (lead): missing")


def test_update_without_opportunity_id(tmp_path: Path) -> None:
    text = UPDATE.replace("opportunity_id: {column: Opportunity Id}\n", "")
    assert error_of(tmp_path, text).startswith("loan.yaml line 2 (opportunity_id): missing")


def test_update_with_lead_is_refused(tmp_path: Path) -> None:
    text = UPDATE + "lead:\n  EmailAddress: Email\n"
    assert error_of(tmp_path, text).startswith("loan.yaml line 7 (lead): not used by operation")


def test_bad_share_access(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE + "share: {user_id: Owner Id, access: write}\n"
    assert error_of(tmp_path, text).startswith(
        'loan.yaml line 19 (share.access): access "write" is not one of read, edit'
    )


def test_not_a_mapping_at_all(tmp_path: Path) -> None:
    assert "key: value" in error_of(tmp_path, "- just\n- a list\n")


# ---------------------------------------------------------------- columns


def test_resolve_columns_ignores_case_and_spaces(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, CONTRACT_EXAMPLE))
    headers = [
        " EMAIL ", "first name", "Mobile", "Opportunity Name", "Stage", "Loan Amount",
        "Status", "Status Comment", "Notes", "Opportunity Date", "Unmapped",
    ]  # fmt: skip
    columns = resolve_columns(mapping, headers)
    assert columns["lead.EmailAddress"] == " EMAIL "
    assert columns["lead.FirstName"] == "first name"
    assert len(columns) == 10


def test_resolve_columns_lists_every_missing_column_at_once(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, CONTRACT_EXAMPLE))
    with pytest.raises(MappingError) as caught:
        resolve_columns(mapping, ["Email", "First Name", "Mobile", "Opportunity Name", "Notes"])
    message = str(caught.value)
    assert message.startswith("loan.yaml: the input has no column")
    assert '"Stage" (line 13, opportunity.mx_Custom_2)' in message
    assert '"Opportunity Date" (line 18, datetime)' in message
    assert message.count("(line ") == 5
    assert message.endswith(
        'its columns are: "Email", "First Name", "Mobile", "Opportunity Name", "Notes"'
    )


def test_resolve_columns_refuses_a_duplicated_mapped_header(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, CONTRACT_EXAMPLE))
    headers = [
        "Email", "First Name", "Mobile", "Opportunity Name", "Stage", "Loan Amount",
        "Status", "Status Comment", "Notes", "Opportunity Date", "Email (2)",
    ]  # fmt: skip
    with pytest.raises(MappingError, match=r'column "Email" appears more than once'):
        resolve_columns(mapping, headers, {"email": ["Email", "Email (2)"]})
    with pytest.raises(MappingError, match="line 8"):
        resolve_columns(mapping, [*headers[:-1], "EMAIL"])


# --- default_country, date_order, YAML in plain words ------------------------


def test_default_country_and_date_order(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace(
        "version: 1\n", "version: 1\ndefault_country: in\ndate_order: mdy\n"
    )
    mapping = load_mapping(write(tmp_path, text))
    assert (mapping.default_country, mapping.date_order) == ("IN", "MDY")
    assert load_mapping(write(tmp_path, CONTRACT_EXAMPLE)).date_order == "DMY"


def test_unknown_country_and_order_name_their_lines(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace("version: 1\n", "version: 1\ndefault_country: India\n")
    assert error_of(tmp_path, text) == (
        'loan.yaml line 2 (default_country): default_country "India" is not a country code '
        "LeadSquared phones use; give the two-letter ISO code, like IN, US or GB"
    )
    text = CONTRACT_EXAMPLE.replace("version: 1\n", "version: 1\ndate_order: DDMMYY\n")
    assert error_of(tmp_path, text) == (
        'loan.yaml line 2 (date_order): unknown date_order "DDMMYY"; use one of DMY, MDY, YMD'
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  FirstName: First Name",
            "\tFirstName: First Name",
            "loan.yaml line 9 is indented with a Tab; use spaces",
        ),
        (
            "lead:",
            "lead",
            "loan.yaml line 7 is missing the colon after its key; write it as `key: value`",
        ),
        (
            "  Mobile: {column: Mobile, type: phone}",
            '  Mobile: "Mobile',
            "loan.yaml line 10 opens a quote that is never closed; "
            "add the closing quote at the end of the value",
        ),
        (
            "  Mobile: {column: Mobile, type: phone}",
            "  Mobile: {column: Mobile, type: phone",
            "loan.yaml line 10 opens { but does not close it with } "
            "(or a comma is missing between its items)",
        ),
        (
            "  FirstName: First Name       # shorthand: the column name",
            "    FirstName: First Name",
            "loan.yaml line 9 is not indented like the lines above it; keys of the same block "
            "need the same number of spaces",
        ),
        (
            "  FirstName: First Name       # shorthand: the column name",
            "  FirstName First Name",
            "loan.yaml line 9 is missing the colon after its key; write it as `key: value`",
        ),
        (
            "  Mobile: {column: Mobile, type: phone}",
            " Mobile: {column: Mobile, type: phone}",
            "loan.yaml line 10 is not indented like the lines above it; keys of the same block "
            "need the same number of spaces",
        ),
    ],
)
def test_yaml_mistakes_in_plain_words(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in CONTRACT_EXAMPLE
    assert error_of(tmp_path, CONTRACT_EXAMPLE.replace(old, new)) == expected


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace("type: email,", "type: mail,").replace(
        "max_length: 200", "max_length: long"
    )
    text = text.replace(
        "  FirstName: First Name ", "  FirstName: {column: First Name, colour: red}"
    )
    assert error_of(tmp_path, text) == (
        'loan.yaml line 8 (lead.EmailAddress): unknown type "mail"; use one of string, email, '
        "phone, number, integer, date, datetime, boolean; and 2 more problems: line 9 "
        '(lead.FirstName): unknown key "colour"; use one of column, value, type, required, '
        "default, allowed, max_length, min, max, pattern, format, required_if; line 12 "
        '(opportunity.mx_Custom_1): max_length must be a whole number, not "long"'
    )
