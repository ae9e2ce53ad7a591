"""API bodies: the shapes of the LeadSquared doc examples, built from validated rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from importer.rules.checks.payload import build_payloads, share_item
from importer.rules.checks.validator import Validator
from importer.rules.mapping.columns import resolve_columns
from importer.rules.mapping.mapping import Mapping
from importer.rules.mapping.mapping_file import load_mapping

ROOT = Path(__file__).resolve().parents[1]

CAPTURE = """\
version: 1
opportunity_event_code: 12000
search_by: EmailAddress
options: {UpdateEmptyFields: true, DoNotPostDuplicateActivity: true, DoNotChangeOwner: true}
lead:
  EmailAddress: {column: Email, type: email}
  mx_City: City
opportunity:
  mx_Custom_1: Name
  mx_Custom_2: {column: Stage, allowed: [Prospecting, New]}
  mx_Custom_6: {column: Amount, type: number}
  Status: {column: Status, default: Open}
note: Note
datetime: {column: When, type: datetime}
share: {user_id: {column: Owner}, access: edit, duration_minutes: 30}
"""

UPDATE = """\
version: 1
operation: update
opportunity_id: {column: Opportunity Id}
opportunity:
  mx_Custom_6: {column: Amount, type: number}
  mx_Custom_7: {column: Other, type: number}
  mx_Custom_8: {column: When, type: datetime}
note: Note
"""


def validated(tmp_path: Path, mapping_text: str, header: list[str], rows: list[list[str]]):
    """Write the mapping and a CSV, validate them, return (mapping, chunk)."""
    (tmp_path / "m.yaml").write_text(mapping_text, encoding="utf-8")
    mapping = load_mapping(tmp_path / "m.yaml")
    with (tmp_path / "in.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    frame = pd.read_csv(tmp_path / "in.csv", dtype=str, keep_default_na=False)
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="RowNumber")
    chunk = Validator(mapping, resolve_columns(mapping, header)).validate(frame)
    return mapping, chunk


CAPTURE_HEADER = ["Email", "City", "Name", "Stage", "Amount", "Status", "Note", "When", "Owner"]


def test_capture_body_has_the_doc_example_shape(tmp_path: Path) -> None:
    mapping, chunk = validated(
        tmp_path,
        CAPTURE,
        CAPTURE_HEADER,
        [
            ["johndoe@example.com", "Bangalore", "Opportunity-Test", "prospecting", "1,20,000",
             "", "Opportunity capture api", "2020-12-05 12:13:44", "u-1"],
        ],
    )  # fmt: skip
    [(row_number, body)] = build_payloads(chunk, mapping)
    assert row_number == 2
    assert body == {
        "LeadDetails": [
            {"Attribute": "EmailAddress", "Value": "johndoe@example.com"},
            {"Attribute": "mx_City", "Value": "Bangalore"},
            {"Attribute": "SearchBy", "Value": "EmailAddress"},
        ],
        "Opportunity": {
            "OpportunityEventCode": 12000,
            "OpportunityNote": "Opportunity capture api",
            "OpportunityDateTime": "2020-12-05 12:13:44",
            "UpdateEmptyFields": True,
            "DoNotPostDuplicateActivity": True,
            "DoNotChangeOwner": True,
            "Fields": [
                {"SchemaName": "mx_Custom_1", "Value": "Opportunity-Test"},
                {"SchemaName": "mx_Custom_2", "Value": "Prospecting"},
                {"SchemaName": "mx_Custom_6", "Value": "120000"},
                {"SchemaName": "Status", "Value": "Open"},
            ],
        },
    }
    assert list(body) == ["LeadDetails", "Opportunity"]
    assert list(body["Opportunity"])[:3] == [
        "OpportunityEventCode",
        "OpportunityNote",
        "OpportunityDateTime",
    ]
    assert list(body["Opportunity"])[-1] == "Fields"


def test_empty_values_are_left_out(tmp_path: Path) -> None:
    mapping, chunk = validated(
        tmp_path,
        CAPTURE,
        CAPTURE_HEADER,
        [["a@example.com", "", "Loan", "", "", "Won", "", "", "u-1"]],
    )
    [(_, body)] = build_payloads(chunk, mapping)
    assert body["LeadDetails"] == [
        {"Attribute": "EmailAddress", "Value": "a@example.com"},
        {"Attribute": "SearchBy", "Value": "EmailAddress"},
    ]
    assert "OpportunityNote" not in body["Opportunity"]
    assert "OpportunityDateTime" not in body["Opportunity"]
    assert body["Opportunity"]["Fields"] == [
        {"SchemaName": "mx_Custom_1", "Value": "Loan"},
        {"SchemaName": "Status", "Value": "Won"},
    ]


def test_only_valid_rows_in_row_order(tmp_path: Path) -> None:
    mapping, chunk = validated(
        tmp_path,
        CAPTURE,
        CAPTURE_HEADER,
        [
            ["a@example.com", "", "A", "", "", "", "", "", "u"],
            ["bad", "", "B", "", "", "", "", "", "u"],
            ["c@example.com", "", "C", "", "", "", "", "", "u"],
        ],
    )
    assert [row for row, _ in build_payloads(chunk, mapping)] == [2, 4]


def test_every_value_is_text_and_the_event_code_an_int(tmp_path: Path) -> None:
    mapping, chunk = validated(
        tmp_path,
        CAPTURE,
        CAPTURE_HEADER,
        [["a@example.com", "7", "8", "new", "9.50", "", "", "", "u"]],
    )
    [(_, body)] = build_payloads(chunk, mapping)
    pairs = body["LeadDetails"] + body["Opportunity"]["Fields"]
    assert all(isinstance(pair["Value"], str) for pair in pairs)
    assert type(body["Opportunity"]["OpportunityEventCode"]) is int
    assert {"SchemaName": "mx_Custom_6", "Value": "9.5"} in body["Opportunity"]["Fields"]


def test_update_body_has_the_doc_example_shape(tmp_path: Path) -> None:
    mapping, chunk = validated(
        tmp_path,
        UPDATE,
        ["Opportunity Id", "Amount", "Other", "When", "Note"],
        [
            ["5ca5b042-51ea-4699-b6f0-84c40ab12770", "200,000", "180,000",
             "2020-09-16 12:13:44", "Update note"],
            ["5ca5b042-0000-4699-b6f0-84c40ab12770", "", "5", "", ""],
        ],
    )  # fmt: skip
    bodies = build_payloads(chunk, mapping)
    assert bodies[0] == (
        2,
        {
            "ProspectOpportunityId": "5ca5b042-51ea-4699-b6f0-84c40ab12770",
            "OpportunityNote": "Update note",
            "Fields": [
                {"SchemaName": "mx_Custom_6", "Value": "200000"},
                {"SchemaName": "mx_Custom_7", "Value": "180000"},
                {"SchemaName": "mx_Custom_8", "Value": "2020-09-16 12:13:44"},
            ],
        },
    )
    assert bodies[1][1] == {
        "ProspectOpportunityId": "5ca5b042-0000-4699-b6f0-84c40ab12770",
        "Fields": [{"SchemaName": "mx_Custom_7", "Value": "5"}],
    }


def test_share_item_has_the_doc_example_shape(tmp_path: Path) -> None:
    mapping, chunk = validated(
        tmp_path,
        CAPTURE,
        CAPTURE_HEADER,
        [["a@example.com", "", "A", "", "", "", "", "", "96105aa0-61f2-11ea-8109-022edb41208c"]],
    )
    values = chunk.values.to_dict("index")[2]
    assert share_item("f85f3b60-bec7-47c8-8fcd-ae5d9df2d0e5", values, mapping) == {
        "UserId": "96105aa0-61f2-11ea-8109-022edb41208c",
        "Entity": 5,
        "EntityType": 3,
        "EntityId": "f85f3b60-bec7-47c8-8fcd-ae5d9df2d0e5",
        "AccessType": 2,
        "DurationInMinutes": 30,
    }


def test_share_item_read_access_without_duration(tmp_path: Path) -> None:
    text = CAPTURE.replace(
        "share: {user_id: {column: Owner}, access: edit, duration_minutes: 30}",
        "share: {user_id: Owner, access: {column: Access}}",
    )
    mapping, chunk = validated(
        tmp_path,
        text,
        [*CAPTURE_HEADER, "Access"],
        [
            ["a@example.com", "", "A", "", "", "", "", "", "u-7", "READ"],
            ["b@example.com", "", "B", "", "", "", "", "", "u-8", "write"],
        ],
    )
    assert chunk.invalid_rows == [3]
    item = share_item("opp-1", chunk.values.to_dict("index")[2], mapping)
    assert item == {
        "UserId": "u-7",
        "Entity": 5,
        "EntityType": 3,
        "EntityId": "opp-1",
        "AccessType": 1,
    }


def test_rows_without_a_share_user_are_invalid(tmp_path: Path) -> None:
    _, chunk = validated(
        tmp_path, CAPTURE, CAPTURE_HEADER, [["a@example.com", "", "A", "", "", "", "", "", ""]]
    )
    assert [e.message for e in chunk.errors] == ["Row 2, Owner: required but empty"]


def test_a_plain_values_frame_works_too(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(UPDATE, encoding="utf-8")
    mapping: Mapping = load_mapping(tmp_path / "m.yaml")
    frame = pd.DataFrame(
        {
            "opportunity_id": ["o-1"],
            "opportunity.mx_Custom_6": ["1"],
            "opportunity.mx_Custom_7": [""],
            "opportunity.mx_Custom_8": [""],
            "note": [""],
        },
        index=pd.Index([5], name="RowNumber"),
    )
    assert build_payloads(frame, mapping) == [
        (
            5,
            {
                "ProspectOpportunityId": "o-1",
                "Fields": [{"SchemaName": "mx_Custom_6", "Value": "1"}],
            },
        )
    ]
    with pytest.raises(ValueError, match="note"):
        build_payloads(frame.drop(columns=["note"]), mapping)
