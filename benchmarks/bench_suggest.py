"""How often `map suggest` puts a column where a person would, from scratch and with --from.

Files: the samples (truth: their mappings) and six exports made here the way CRMs and
ops teams write them (Indian CRM headers and a title row; an admissions workbook with
a "Read me" first sheet; a deals export; a hand-made sheet with typos; and two written
before any tuning against them: HubSpot-style contacts, a Salesforce-style report). Each column has
the targets a careful person would accept; a column with no standard LeadSquared field
is right when it is left for the user.

From scratch it prints, over the columns that have a standard field, the share placed
right, and over every column, the share handled right (placed right, or left for the
user when nothing standard fits) and the number placed wrong.
With --from, each file's headers are renamed as a partner might (synonyms, abbreviations,
a typo, one dropped optional column) and the file's mapping is re-targeted; it prints the
share of the mapping's columns that found their new header, and the number sent wrong.

    .venv/bin/python benchmarks/bench_suggest.py
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from importer import suggest_mapping  # noqa: E402
from importer.rules.mapping.mapping_file import load_mapping  # noqa: E402
from importer.rules.suggest.suggest import PLACE  # noqa: E402

ROWS = 200
CUSTOM = "custom"  # no standard field: the right answer is to leave it to the user


@dataclass
class Export:
    """A file, each column's acceptable targets, its mapping, and how a partner renames it."""

    name: str
    path: Path
    truth: dict[str, set[str]]
    mapping: Path
    renames: dict[str, str]
    dropped: str | None = None
    sheet: str | None = None


# ---------------------------------------------------------------- values

FIRST = ["Asha", "Ravi", "Meera", "Arjun", "Priya", "Kiran", "Sanjay", "Divya", "Rahul", "Neha"]
LAST = ["Rao", "Iyer", "Shah", "Menon", "Gupta", "Nair", "Patel", "Das", "Reddy", "Joshi"]
CITIES = ["Bengaluru", "Chennai", "Mumbai", "Pune", "Kochi", "Hyderabad", "Delhi", "Jaipur"]
STATES = ["Karnataka", "Tamil Nadu", "Maharashtra", "Kerala", "Telangana", "Delhi", "Rajasthan"]


def mobile(rng: random.Random) -> str:
    number = f"{rng.choice('6789')}{rng.randrange(10**9):09d}"
    return rng.choice([number, f"+91 {number[:5]} {number[5:]}", f"0{number}", f"+91-{number}"])


def rupees(rng: random.Random) -> str:
    amount = rng.randrange(1, 500) * 10_000
    lakhs = f"{amount:,}"  # western grouping first, then Indian
    text = str(amount)
    indian = text[-3:]
    head = text[:-3]
    while head:
        indian = head[-2:] + "," + indian
        head = head[:-2]
    return rng.choice([f"₹ {indian}", f"Rs. {indian}", f"{indian}/-", indian, lakhs])


def when(rng: random.Random, fmt: str) -> str:
    day, month = rng.randrange(1, 28), rng.randrange(1, 13)
    stamp = time.struct_time(
        (2026, month, day, rng.randrange(9, 19), rng.randrange(60), 0, 0, 1, 0)
    )
    return time.strftime(fmt, stamp)


def email(first: str, last: str, i: int) -> str:
    return f"{first}.{last}{i}@example.com".lower()


# ---------------------------------------------------------------- the exports


def write_csv(path: Path, header: list[str], rows: list[list[str]], title: bool = False) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if title:
            writer.writerow(["Leads export 01-Dec-2026"])
            writer.writerow([])
        writer.writerow(header)
        writer.writerows(rows)


def crm_export(folder: Path, rng: random.Random) -> Export:
    """An Indian CRM's lead export: title row, "E-mail ID", "Mobile No.", ₹ amounts."""
    columns = {
        "Lead ID": {CUSTOM},
        "Customer First Name": {"lead.FirstName"},
        "Customer Last Name": {"lead.LastName"},
        "E-mail ID": {"lead.EmailAddress"},
        "Mobile No.": {"lead.Mobile"},
        "Alternate Contact No.": {"lead.Phone"},
        "City/Town": {"lead.mx_City"},
        "State": {"lead.mx_State"},
        "Pincode": {"lead.mx_Zip"},
        "Lead Source": {"lead.Source"},
        "Product": {CUSTOM},
        "Loan Amount (₹)": {CUSTOM},
        "Created On": {"datetime"},
        "Remarks": {"note"},
    }
    rows = []
    for i in range(ROWS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append(
            [
                f"LD-{100000 + i}",
                first,
                last,
                email(first, last, i),
                mobile(rng),
                rng.choice(["", "", mobile(rng)]),
                rng.choice(CITIES),
                rng.choice(STATES),
                f"{rng.randrange(110001, 700000)}",
                rng.choice(["Website", "Referral", "Walk-in", "Google Ads", "Facebook"]),
                rng.choice(["Home Loan", "Car Loan", "Personal Loan", "Gold Loan"]),
                rupees(rng),
                when(rng, "%d-%b-%Y %I:%M %p"),
                rng.choice(["", "Call back after 5", "Interested", "Docs pending"]),
            ]
        )
    path = folder / "crm_leads.csv"
    write_csv(path, list(columns), rows, title=True)
    mapping = folder / "crm_leads.yaml"
    mapping.write_text(
        "version: 1\nopportunity_event_code: 12000\nsearch_by: EmailAddress\n"
        "lead:\n"
        "  FirstName: {column: Customer First Name, required: true}\n"
        "  LastName: Customer Last Name\n"
        "  EmailAddress: {column: E-mail ID, type: email, required: true}\n"
        "  Mobile: {column: Mobile No., type: phone}\n"
        "  Phone: {column: Alternate Contact No., type: phone}\n"
        "  mx_City: City/Town\n  mx_State: State\n  mx_Zip: Pincode\n"
        "  Source: {column: Lead Source, allowed: [Website, Referral, Walk-in, Google Ads, "
        "Facebook]}\n"
        "opportunity:\n"
        "  mx_Custom_1: {column: Lead ID, required: true, pattern: 'LD-[0-9]+'}\n"
        "  mx_Custom_3: {column: Product, allowed: [Home Loan, Car Loan, Personal Loan, "
        "Gold Loan]}\n"
        "  mx_Custom_6: {column: Loan Amount (₹), type: number, min: 0}\n"
        "note: Remarks\n"
        "datetime: {column: Created On, type: datetime, format: '%d-%b-%Y %I:%M %p'}\n"
    )
    renames = {
        "Customer First Name": "First Name",
        "E-mail ID": "Email Address",
        "Mobile No.": "Mobile Number",
        "Alternate Contact No.": "Alt. Phone",
        "Pincode": "PIN Code",
        "Lead Source": "Source of Lead",
        "Loan Amount (₹)": "Amount Requested",
        "Created On": "Lead Created On",
        "Remarks": "Agent Remarks",
        "Lead ID": "Lead Ref No",
    }
    return Export("Indian CRM export (CSV, title row)", path, columns, mapping, renames, "State")


def admissions_workbook(folder: Path, rng: random.Random) -> Export:
    """A college's admissions sheet: "Read me" first sheet, one "Student Name" column."""
    columns = {
        "Application No.": {CUSTOM, "opportunity.mx_Custom_1"},
        "Student Name": {"lead.FirstName"},
        "Email Address": {"lead.EmailAddress"},
        "Contact Number": {"lead.Mobile"},
        "Course Applied": {CUSTOM},
        "Date of Birth": {"lead.DOB", CUSTOM},
        "Gender": {CUSTOM},
        "Father's Name": {CUSTOM},
        "City": {"lead.mx_City"},
        "Enquiry Date": {"datetime"},
        "Counsellor": {CUSTOM},
        "Status": {"opportunity.Status"},
        "Comments": {"note"},
    }
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Read me"
    for line in ("Admissions 2026 - fill one row per applicant", "Do not change the headers"):
        notes.append([line])
    sheet = workbook.create_sheet("Applicants")
    sheet.append(list(columns))
    for i in range(ROWS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        sheet.append(
            [
                f"ADM-2026-{i:06d}",
                f"{first} {last}",
                email(first, last, i),
                mobile(rng),
                rng.choice(["B.Tech", "BBA", "MBA", "M.Sc", "B.Com"]),
                when(rng, "%d/%m/%Y").replace("2026", str(rng.randrange(1998, 2008))),
                rng.choice(["Male", "Female"]),
                f"{rng.choice(FIRST)} {last}",
                rng.choice(CITIES),
                when(rng, "%d/%m/%Y"),
                rng.choice(["Anita", "Vikram", "Sunil"]),
                rng.choice(["Open", "Open", "Won", "Lost"]),
                rng.choice(["", "Hostel needed", "Scholarship enquiry"]),
            ]
        )
    path = folder / "admissions.xlsx"
    workbook.save(path)
    mapping = folder / "admissions.yaml"
    mapping.write_text(
        "version: 1\nopportunity_event_code: 12002\nsearch_by: EmailAddress\n"
        "lead:\n"
        "  FirstName: {column: Student Name, required: true}\n"
        "  EmailAddress: {column: Email Address, type: email, required: true}\n"
        "  Mobile: {column: Contact Number, type: phone}\n"
        "  mx_City: City\n"
        "opportunity:\n"
        "  mx_Custom_1: {column: Application No., required: true,\n"
        "                pattern: 'ADM-[0-9]{4}-[0-9]{6}'}\n"
        "  mx_Custom_2: {column: Course Applied, allowed: [B.Tech, BBA, MBA, M.Sc, B.Com]}\n"
        "  mx_Custom_7: {column: Date of Birth, type: date, format: '%d/%m/%Y'}\n"
        "  mx_Custom_8: {column: Gender, allowed: [Male, Female]}\n"
        "  mx_Custom_9: Father's Name\n"
        "  mx_Custom_10: Counsellor\n"
        "  Status: {column: Status, allowed: [Open, Won, Lost]}\n"
        "note: {column: Comments}\n"
        "datetime: {column: Enquiry Date, type: datetime, format: '%d/%m/%Y'}\n"
    )
    renames = {
        "Application No.": "Form Number",
        "Student Name": "Applicant Name",
        "Email Address": "Email",
        "Contact Number": "Mobile",
        "Course Applied": "Programme",
        "Date of Birth": "DOB",
        "Enquiry Date": "Date of Enquiry",
        "Comments": "Remarks",
        "Father's Name": "Guardian Name",
    }
    return Export(
        "Admissions workbook (Read me sheet)",
        path,
        columns,
        mapping,
        renames,
        "Counsellor",
        "Applicants",
    )


def deals_export(folder: Path, rng: random.Random) -> Export:
    """A B2B deals export: company, designation, deal stage and value, close date."""
    columns = {
        "Client Name": {"lead.FirstName"},
        "Email": {"lead.EmailAddress"},
        "Phone No": {"lead.Phone", "lead.Mobile"},
        "Company": {"lead.Company"},
        "Designation": {"lead.JobTitle"},
        "Website": {"lead.Website"},
        "Deal Name": {"opportunity.mx_Custom_1"},
        "Deal Stage": {"opportunity.mx_Custom_2"},
        "Deal Value": {CUSTOM},
        "Expected Closing": {CUSTOM},
        "Opportunity Status": {"opportunity.Status"},
        "Reason": {"opportunity.mx_Custom_19"},
        "Country": {"lead.mx_Country"},
        "Zip Code": {"lead.mx_Zip"},
        "Notes": {"note"},
    }
    rows = []
    for i in range(ROWS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        status = rng.choice(["Open", "Open", "Won", "Lost"])
        company = rng.choice(["Acme", "Globex", "Initech", "Umbrella", "Hooli"]) + f" {i}"
        rows.append(
            [
                f"{first} {last}",
                email(first, last, i),
                mobile(rng),
                company,
                rng.choice(["CFO", "Manager", "Director", "Analyst"]),
                f"https://www.{company.split()[0].lower()}{i}.com",
                f"{company} - renewal",
                rng.choice(["Prospecting", "Proposal", "Negotiation"]),
                f"{rng.randrange(1, 90) * 1000:,}",
                when(rng, "%d %b %Y"),
                status,
                "" if status == "Open" else rng.choice(["Budget", "Signed", "Competitor"]),
                "India",
                f"{rng.randrange(110001, 700000)}",
                rng.choice(["", "Met at expo", "Warm lead"]),
            ]
        )
    path = folder / "deals.csv"
    write_csv(path, list(columns), rows)
    mapping = folder / "deals.yaml"
    mapping.write_text(
        "version: 1\nopportunity_event_code: 12005\nsearch_by: EmailAddress\n"
        "unique: [EmailAddress, mx_Custom_1]\n"
        "lead:\n"
        "  FirstName: Client Name\n"
        "  EmailAddress: {column: Email, type: email, required: true}\n"
        "  Phone: {column: Phone No, type: phone}\n"
        "  Company: Company\n  JobTitle: Designation\n  Website: Website\n"
        "  mx_Country: Country\n  mx_Zip: Zip Code\n"
        "opportunity:\n"
        "  mx_Custom_1: {column: Deal Name, required: true, max_length: 200}\n"
        "  mx_Custom_2: {column: Deal Stage, allowed: [Prospecting, Proposal, Negotiation]}\n"
        "  mx_Custom_6: {column: Deal Value, type: number, min: 0}\n"
        "  mx_Custom_8: {column: Expected Closing, type: date, format: '%d %b %Y'}\n"
        "  Status: {column: Opportunity Status, allowed: [Open, Won, Lost]}\n"
        "  mx_Custom_19: {column: Reason, required_if: {Status: [Won, Lost]}}\n"
        "note: Notes\n"
    )
    renames = {
        "Client Name": "Contact Person",
        "Phone No": "Telephone",
        "Company": "Organisation",
        "Designation": "Job Title",
        "Deal Name": "Opportunity Name",
        "Deal Stage": "Stage",
        "Deal Value": "Value (INR)",
        "Opportunity Status": "Status",
        "Reason": "Won/Lost Reason",
        "Notes": "Comments",
    }
    return Export("Deals export (CSV)", path, columns, mapping, renames, "Website")


def typo_sheet(folder: Path, rng: random.Random) -> Export:
    """A sheet an ops person typed up: typos, abbreviations, odd spacing."""
    columns = {
        "Frist Name": {"lead.FirstName"},
        "Surname": {"lead.LastName"},
        "Emial": {"lead.EmailAddress"},
        "Mob. No": {"lead.Mobile"},
        " City ": {"lead.mx_City"},
        "Adress": {"lead.mx_Street1"},
        "Intrested In": {CUSTOM},
        "Budget": {CUSTOM},
        "Visit Date": {CUSTOM, "datetime"},
        "Remark": {"note"},
    }
    rows = []
    for i in range(ROWS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append(
            [
                first,
                last,
                email(first, last, i),
                mobile(rng),
                rng.choice(CITIES),
                f"{rng.randrange(1, 200)}, MG Road",
                rng.choice(["2BHK", "3BHK", "Villa", "Plot"]),
                rupees(rng),
                when(rng, "%d.%m.%Y"),
                rng.choice(["", "Site visit done", "Call later"]),
            ]
        )
    path = folder / "site_visits.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(columns))
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    mapping = folder / "site_visits.yaml"
    mapping.write_text(
        "version: 1\nopportunity_event_code: 12009\nsearch_by: Mobile\n"
        "lead:\n"
        "  FirstName: {column: Frist Name, required: true}\n"
        "  LastName: Surname\n"
        "  EmailAddress: {column: Emial, type: email}\n"
        "  Mobile: {column: Mob. No, type: phone, required: true}\n"
        "  mx_City: City\n  mx_Street1: Adress\n"
        "opportunity:\n"
        "  mx_Custom_2: {column: Intrested In, allowed: [2BHK, 3BHK, Villa, Plot]}\n"
        "  mx_Custom_6: {column: Budget, type: number}\n"
        "  mx_Custom_8: {column: Visit Date, type: date, format: '%d.%m.%Y'}\n"
        "note: Remark\n"
    )
    renames = {
        "Frist Name": "First Name",
        "Emial": "Email",
        "Mob. No": "Mobile",
        "Adress": "Address",
        "Intrested In": "Interested In",
        "Budget": "Budget (Rs)",
        "Remark": "Remarks",
    }
    return Export("Typed-up sheet with typos (XLSX)", path, columns, mapping, renames, "Surname")


def hubspot_export(folder: Path, rng: random.Random) -> Export:
    """Headers as HubSpot and Zoho name them, written before any tuning against them."""
    columns = {
        "Record ID": {CUSTOM},
        "Salutation": {CUSTOM},
        "First Name": {"lead.FirstName"},
        "Last Name": {"lead.LastName"},
        "Email": {"lead.EmailAddress"},
        "Secondary Email": {CUSTOM},
        "Phone Number": {"lead.Phone"},
        "Mobile Phone Number": {"lead.Mobile"},
        "Company Name": {"lead.Company"},
        "Job Title": {"lead.JobTitle"},
        "Lifecycle Stage": {CUSTOM, "lead.ProspectStage"},
        "Lead Status": {CUSTOM, "lead.ProspectStage"},
        "Annual Revenue": {CUSTOM},
        "Street Address": {"lead.mx_Street1"},
        "City": {"lead.mx_City"},
        "State/Region": {"lead.mx_State"},
        "Postal Code": {"lead.mx_Zip"},
        "Country/Region": {"lead.mx_Country"},
        "Website URL": {"lead.Website"},
        "Original Source": {"lead.Source"},
        "Create Date": {"datetime", CUSTOM},
        "Last Modified Date": {CUSTOM},
        "Description": {"note"},
    }
    rows = []
    for i in range(ROWS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = rng.choice(["Acme", "Globex", "Initech", "Umbrella", "Hooli"])
        rows.append(
            [
                str(5_000_000 + i * 37),
                rng.choice(["Mr.", "Ms.", "Dr.", ""]),
                first,
                last,
                email(first, last, i),
                rng.choice(["", email(last, first, i + 7)]),
                f"+91 80 {rng.randrange(10**7, 10**8)}",
                mobile(rng),
                company,
                rng.choice(["CFO", "Manager", "Director", "Analyst"]),
                rng.choice(["lead", "subscriber", "opportunity", "customer"]),
                rng.choice(["New", "Open", "In Progress", "Unqualified"]),
                f"{rng.randrange(1, 900) * 100_000}",
                f"{rng.randrange(1, 200)} MG Road",
                rng.choice(CITIES),
                rng.choice(STATES),
                f"{rng.randrange(110001, 700000)}",
                "India",
                f"https://{company.lower()}.example.com",
                rng.choice(["Organic Search", "Paid Social", "Direct Traffic", "Referrals"]),
                when(rng, "%Y-%m-%d %H:%M"),
                when(rng, "%Y-%m-%d %H:%M"),
                rng.choice(["", "Asked for a demo", "Downloaded the brochure"]),
            ]
        )
    path = folder / "hubspot_contacts.csv"
    write_csv(path, list(columns), rows)
    mapping = folder / "hubspot.yaml"
    mapping.write_text(
        "version: 1\nopportunity_event_code: 12000\nsearch_by: EmailAddress\n"
        "lead:\n"
        "  FirstName: First Name\n  LastName: Last Name\n"
        "  EmailAddress: {column: Email, type: email, required: true}\n"
        "  Phone: {column: Phone Number, type: phone}\n"
        "  Mobile: {column: Mobile Phone Number, type: phone}\n"
        "  Company: Company Name\n  JobTitle: Job Title\n"
        "  mx_City: City\n  mx_Zip: Postal Code\n"
        "opportunity:\n"
        "  mx_Custom_3: {column: Lifecycle Stage, allowed: [lead, subscriber, opportunity, "
        "customer]}\n"
        "  mx_Custom_6: {column: Annual Revenue, type: number}\n"
        "note: Description\n"
        "datetime: {column: Create Date, type: datetime}\n"
    )
    renames = {
        "Phone Number": "Phone",
        "Mobile Phone Number": "Mobile",
        "Company Name": "Company",
        "Job Title": "Designation",
        "Postal Code": "ZIP",
        "Create Date": "Created On",
        "Description": "Notes",
        "Lifecycle Stage": "Lifecycle",
    }
    return Export("HubSpot-style contacts (untuned)", path, columns, mapping, renames, "City")


def salesforce_report(folder: Path, rng: random.Random) -> Export:
    """A Salesforce-style leads report, written (with its renames) after the last tuning."""
    columns = {
        "Lead Owner": {CUSTOM},
        "Salutation": {CUSTOM},
        "First Name": {"lead.FirstName"},
        "Last Name": {"lead.LastName"},
        "Title": {"lead.JobTitle", CUSTOM},
        "Company / Account": {"lead.Company"},
        "Email": {"lead.EmailAddress"},
        "Phone": {"lead.Phone"},
        "Mobile": {"lead.Mobile"},
        "Lead Source": {"lead.Source"},
        "Lead Status": {CUSTOM, "lead.ProspectStage"},
        "Rating": {CUSTOM},
        "Annual Revenue": {CUSTOM},
        "Street": {"lead.mx_Street1"},
        "City": {"lead.mx_City"},
        "State/Province": {"lead.mx_State"},
        "Zip/Postal Code": {"lead.mx_Zip"},
        "Country": {"lead.mx_Country"},
        "Created Date": {"datetime", CUSTOM},
        "Description": {"note"},
    }
    rows = []
    for i in range(ROWS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append(
            [
                rng.choice(["Anita Rao", "Vikram Shah", "Sales Queue"]),
                rng.choice(["Mr.", "Ms.", "Dr.", ""]),
                first,
                last,
                rng.choice(["CFO", "Manager", "Director", "Analyst", ""]),
                rng.choice(["Acme", "Globex", "Initech", "Umbrella", "Hooli"]),
                email(first, last, i),
                f"+91 80 {rng.randrange(10**7, 10**8)}",
                mobile(rng),
                rng.choice(["Web", "Phone Inquiry", "Partner Referral", "Trade Show"]),
                rng.choice(["Open - Not Contacted", "Working - Contacted", "Closed - Converted"]),
                rng.choice(["Hot", "Warm", "Cold"]),
                rupees(rng),
                f"{rng.randrange(1, 200)} Residency Road",
                rng.choice(CITIES),
                rng.choice(STATES),
                f"{rng.randrange(110001, 700000)}",
                "India",
                when(rng, "%d/%m/%Y %H:%M"),
                rng.choice(["", "Wants a callback", "Asked for pricing"]),
            ]
        )
    path = folder / "salesforce_leads_report.csv"
    write_csv(path, list(columns), rows)
    mapping = folder / "salesforce.yaml"
    mapping.write_text(
        "version: 1\nopportunity_event_code: 12000\nsearch_by: EmailAddress\n"
        "lead:\n"
        "  FirstName: First Name\n  LastName: Last Name\n"
        "  EmailAddress: {column: Email, type: email, required: true}\n"
        "  Mobile: {column: Mobile, type: phone}\n"
        "  Company: Company / Account\n  mx_City: City\n"
        "opportunity:\n"
        "  mx_Custom_3: {column: Lead Status, allowed: [Open - Not Contacted, "
        "Working - Contacted, Closed - Converted]}\n"
        "  mx_Custom_6: {column: Annual Revenue, type: number, min: 0}\n"
        "note: Description\n"
        'datetime: {column: Created Date, type: datetime, format: "%d/%m/%Y %H:%M"}\n'
    )
    renames = {  # typed columns under names that share nothing with the old ones
        "Email": "Email ID",
        "Company / Account": "Organisation",
        "Annual Revenue": "Ticket Size",
        "Created Date": "Captured On",
        "Description": "Comments",
        "Lead Status": "Progress",
    }
    return Export("Salesforce-style report (untuned)", path, columns, mapping, renames, "City")


def sample(path: Path, mapping: Path, extra: dict[str, set[str]] | None = None) -> Export:
    """A shipped sample; truth from its mapping (custom fields: leave them to the user)."""
    model = load_mapping(mapping)
    truth: dict[str, set[str]] = {}
    for target, spec in model.targets().items():
        if spec.column is None:
            continue
        known = target in STANDARD or target.startswith("lead.")
        truth[spec.column] = {target} if known else {CUSTOM}
    truth.update(extra or {})
    return Export(f"samples/{path.name}", path, truth, mapping, {})


STANDARD = {
    "note",
    "datetime",
    "opportunity.mx_Custom_1",
    "opportunity.mx_Custom_2",
    "opportunity.Status",
    "opportunity.mx_Custom_19",
}


# ---------------------------------------------------------------- measuring


@dataclass
class Tally:
    standard: int = 0
    standard_right: int = 0
    columns: int = 0
    handled_right: int = 0
    wrong: int = 0

    def add(self, other: Tally) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def from_scratch(export: Export) -> Tally:
    suggestion = suggest_mapping(export.path, event_code=12000)
    placed = {m.column: m.target for m in suggestion.matches if m.target and m.confidence >= PLACE}
    tally = Tally()
    for column, accepted in export.truth.items():
        label = column.strip()
        got = placed.get(label)
        tally.columns += 1
        if CUSTOM not in accepted:
            tally.standard += 1
            tally.standard_right += got in accepted
        if got is None:
            tally.handled_right += CUSTOM in accepted
            if CUSTOM not in accepted:
                print(f"    left: {column!r} (expected {sorted(accepted)})")
        elif got in accepted:
            tally.handled_right += 1
        else:
            tally.wrong += 1
            print(f"    wrong: {column!r} -> {got}")
    return tally


def renamed_copy(export: Export, folder: Path) -> Path:
    """The same rows under the headers a partner renamed, one optional column dropped."""
    from importer.io.tables import open_table

    table = open_table(export.path, sheet=export.sheet)
    headers = [export.renames.get(h, h) for h in table.original_headers]
    keep = [i for i, h in enumerate(table.original_headers) if h != export.dropped]
    rows = [
        [values[i] for i in keep]
        for chunk in table.chunks()
        for values in chunk.itertuples(index=False)
    ]
    path = folder / f"renamed_{export.path.stem}.csv"
    write_csv(path, [headers[i] for i in keep], rows)
    return path


def retargeted(export: Export, folder: Path) -> Tally:
    path = renamed_copy(export, folder)
    suggestion = suggest_mapping(path, from_mapping=export.mapping)
    tally = Tally()
    for match in suggestion.matches:
        old = match.old_column or ""
        expected = export.renames.get(old.strip(), old.strip())
        tally.columns += 1
        if old == export.dropped:
            tally.handled_right += match.target is None or match.column == old
            continue
        if match.confidence and match.target:
            if match.column.strip().casefold() == expected.casefold():
                tally.handled_right += 1
            else:
                tally.wrong += 1
                print(f"    wrong: {old!r} -> {match.column!r} (expected {expected!r})")
        else:
            print(f"    left: {old!r} (expected {expected!r}): {match.reason}")
    return tally


def main() -> None:
    rng = random.Random(20261201)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        exports = [
            sample(ROOT / "samples" / "loans.csv", ROOT / "mappings" / "loan.yaml"),
            sample(ROOT / "samples" / "loans.xlsx", ROOT / "mappings" / "loan.yaml"),
            sample(
                ROOT / "samples" / "admissions.csv",
                ROOT / "mappings" / "admission.yaml",
                {
                    "Date of Birth": {"lead.DOB", CUSTOM},
                    "Application No": {CUSTOM, "opportunity.mx_Custom_1"},
                    "Program": {CUSTOM},  # mx_Custom_2 there is a programme, not a stage
                },
            ),
        ]
        makers: list[Callable[[Path, random.Random], Export]] = [
            crm_export,
            admissions_workbook,
            deals_export,
            typo_sheet,
            hubspot_export,
            salesforce_report,
        ]
        exports += [make(folder, rng) for make in makers]
        print(
            "From scratch (columns with a standard field placed right; all columns handled right)"
        )
        total = Tally()
        started = time.perf_counter()
        for export in exports:
            tally = from_scratch(export)
            total.add(tally)
            print(
                f"  {export.name:<40} {tally.standard_right}/{tally.standard} standard right, "
                f"{tally.handled_right}/{tally.columns} handled right, {tally.wrong} wrong"
            )
        print(
            f"  {'all':<40} {total.standard_right / total.standard:.0%} of standard columns "
            f"placed right; {total.handled_right / total.columns:.0%} of all columns handled "
            f"right; {total.wrong} placed wrong ({time.perf_counter() - started:.1f} s)"
        )
        print("With --from (renamed headers, one optional column dropped)")
        total = Tally()
        for export in exports:
            if not export.renames:
                continue
            tally = retargeted(export, folder)
            total.add(tally)
            print(
                f"  {export.name:<40} {tally.handled_right}/{tally.columns} right, "
                f"{tally.wrong} wrong"
            )
        print(
            f"  {'all':<40} {total.handled_right / total.columns:.0%} of mapped columns found "
            f"their new header; {total.wrong} sent to a wrong header"
        )


if __name__ == "__main__":
    main()
