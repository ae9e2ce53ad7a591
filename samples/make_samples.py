"""Write the sample inputs in samples/ (run: python samples/make_samples.py).

loans.csv and loans.xlsx hold the same rows; a few are invalid on purpose (a bad
email, a negative amount, Won without a comment, a repeat) and one is blank, so
the demo shows every outcome. The xlsx has real date cells and phones stored as
numbers, as a spreadsheet exported from a CRM or typed by hand would.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent

LOAN_HEADERS = [
    "Email", "First Name", "Last Name", "Mobile", "City", "Opportunity Name", "Stage",
    "Loan Amount", "Expected Close", "Status", "Status Comment", "Notes", "Opportunity Date",
]  # fmt: skip

# (email, first, last, mobile, city, name, stage, amount, close, status, comment, notes, when)
LOANS: list[tuple] = [
    ("asha.rao@example.com", "Asha", "Rao", 9876543210, "Bengaluru", "Home loan - Asha Rao",
     "Prospecting", 2500000, date(2025, 3, 31), "Open", "", "Met at the expo",
     datetime(2025, 1, 6, 10, 30)),
    ("ravi.iyer@example.com", "Ravi", "Iyer", 9845012345, "Chennai", "Car loan - Ravi Iyer",
     "New", 800000, date(2025, 2, 15), "Open", "", "", datetime(2025, 1, 6, 11, 0)),
    ("meera.shah@example.com", "Meera", "Shah", "+91 98200 11223", "Mumbai",
     "Personal loan - Meera Shah", "Qualified", 300000, date(2025, 1, 31), "Won",
     "Documents verified", "Fast track", datetime(2025, 1, 7, 9, 15)),
    ("bob@", "Bob", "Menon", 9812345678, "Kochi", "Home loan - Bob Menon", "New", 1500000,
     date(2025, 4, 30), "Open", "", "Email to be confirmed", datetime(2025, 1, 7, 12, 0)),
    ("kiran.das@example.com", "Kiran", "Das", 9830098300, "Kolkata", "Business loan - Kiran Das",
     "Prospecting", -5000, date(2025, 5, 15), "Open", "", "", datetime(2025, 1, 8, 14, 45)),
    ("neha.gupta@example.com", "Neha", "Gupta", 9910099100, "Delhi", "Home loan - Neha Gupta",
     "Qualified", 4200000, date(2025, 6, 30), "Won", "", "Won but no comment yet",
     datetime(2025, 1, 8, 16, 20)),
    None,  # a blank row: skipped, not reported
    ("arjun.nair@example.com", "Arjun", "Nair", 9447094470, "Thiruvananthapuram",
     "Education loan - Arjun Nair", "New", 650000, date(2025, 7, 1), "Open", "", "",
     datetime(2025, 1, 9, 10, 0)),
    ("asha.rao@example.com", "Asha", "Rao", 9876543210, "Bengaluru", "Home loan - Asha Rao",
     "Prospecting", 2500000, date(2025, 3, 31), "Open", "", "Entered twice",
     datetime(2025, 1, 9, 10, 5)),
    ("farah.khan@example.com", "Farah", "Khan", 9819098190, "Mumbai", "Gold loan - Farah Khan",
     "Prospecting", 120000, date(2025, 2, 28), "Lost", "Chose another lender", "",
     datetime(2025, 1, 10, 11, 30)),
    ("vikram.singh@example.com", "Vikram", "Singh", 9876001234, "Jaipur",
     "Car loan - Vikram Singh", "New", 950000, date(2025, 3, 15), "Open", "", "",
     datetime(2025, 1, 10, 15, 0)),
    ("priya.menon@example.com", "Priya", "Menon", 9895098950, "Kochi",
     "Home loan - Priya Menon", "Qualified", 5600000, date(2025, 8, 31), "Open", "",
     "Joint applicant", datetime(2025, 1, 11, 9, 40)),
    ("sanjay.patel@example.com", "Sanjay", "Patel", 9825098250, "Ahmedabad",
     "Business loan - Sanjay Patel", "New", 2000000, date(2025, 4, 15), "Open", "", "",
     datetime(2025, 1, 11, 13, 10)),
    ("lakshmi.reddy@example.com", "Lakshmi", "Reddy", 9848098480, "Hyderabad",
     "Personal loan - Lakshmi Reddy", "Prospecting", 250000, date(2025, 2, 10), "Open", "", "",
     datetime(2025, 1, 12, 10, 25)),
    ("rahul.verma@example.com", "Rahul", "Verma", 9935099350, "Lucknow",
     "Home loan - Rahul Verma", "New", 3100000, date(2025, 9, 30), "Open", "", "",
     datetime(2025, 1, 12, 17, 5)),
    ("anita.joshi@example.com", "Anita", "Joshi", 9822098220, "Pune",
     "Car loan - Anita Joshi", "Qualified", 700000, date(2025, 3, 1), "Won", "Disbursed", "",
     datetime(2025, 1, 13, 11, 50)),
    ("deepak.kumar@example.com", "Deepak", "Kumar", 9431094310, "Patna",
     "Education loan - Deepak Kumar", "Prospecting", 450000, date(2025, 6, 1), "Open", "", "",
     datetime(2025, 1, 13, 14, 35)),
    ("sneha.pillai@example.com", "Sneha", "Pillai", 9446094460, "Kochi",
     "Gold loan - Sneha Pillai", "New", 90000, date(2025, 2, 5), "Open", "", "",
     datetime(2025, 1, 14, 10, 10)),
    ("manoj.tiwari@example.com", "Manoj", "Tiwari", 9826098260, "Indore",
     "Home loan - Manoj Tiwari", "Qualified", 2800000, date(2025, 7, 31), "Open", "", "",
     datetime(2025, 1, 14, 16, 0)),
    ("kavya.bhat@example.com", "Kavya", "Bhat", 9880098800, "Mangaluru",
     "Personal loan - Kavya Bhat", "Prospecting", 175000, date(2025, 2, 20), "Open", "", "",
     datetime(2025, 1, 15, 9, 0)),
]  # fmt: skip


def _csv_text(value: object, column: str) -> str:
    """How a person would type the loan sheet into a CSV (day-first dates, grouped rupees)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if column == "Loan Amount" and isinstance(value, int) and value >= 0:
        return _indian_grouping(value)
    return "" if value is None else str(value)


def _indian_grouping(amount: int) -> str:
    """2500000 → 25,00,000 (lakh/crore grouping, as Indian sales teams write it)."""
    text = str(amount)
    if len(text) <= 3:
        return text
    head, tail = text[:-3], text[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return ",".join([*groups, tail])


def write_loans() -> None:
    with (HERE / "loans.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LOAN_HEADERS)
        for row in LOANS:
            if row is None:
                writer.writerow([""] * len(LOAN_HEADERS))
            else:
                writer.writerow(_csv_text(v, c) for v, c in zip(row, LOAN_HEADERS, strict=True))
    book = Workbook()
    sheet = book.active
    sheet.title = "Loans"
    sheet.append(LOAN_HEADERS)
    for row in LOANS:
        sheet.append([None] * len(LOAN_HEADERS) if row is None else list(row))
    for cell in sheet["I"][1:]:
        cell.number_format = "DD/MM/YYYY"
    for cell in sheet["M"][1:]:
        cell.number_format = "YYYY-MM-DD HH:MM"
    book.save(HERE / "loans.xlsx")


ADMISSION_HEADERS = [
    "Email", "First Name", "Last Name", "Phone", "State", "Application No", "Program",
    "Intake Year", "Scholarship", "Entrance Score", "Date of Birth", "Status", "Status Comment",
    "Remarks", "Enquiry Time",
]  # fmt: skip

ADMISSIONS: list[list[str]] = [
    ["isha.kapoor@example.com", "Isha", "Kapoor", "+91-98111-22334", "Delhi", "ADM-2025-000101",
     "B.Tech", "2025", "yes", "92.5", "14-03-2007", "Open", "", "Wants hostel", "06/01/2025 10:30"],
    ["rohan.mehta@example.com", "Rohan", "Mehta", "9820012345", "Maharashtra", "ADM-2025-000102",
     "mba", "2025", "No", "78", "02/11/2001", "Open", "", "", "06/01/2025 11:05"],
    ["tara.sen@example.com", "Tara", "Sen", "(033) 2555 1234", "West Bengal", "ADM-2025-000103",
     "M.Sc", "2026", "", "88.25", "2003-07-21", "Won", "Fee paid", "", "07/01/2025 09:45"],
    ["omar.ali@example.com", "Omar", "Ali", "9876512345", "Telangana", "ADM-25-103",
     "BBA", "2025", "y", "64", "30-09-2006", "Open", "", "Application number mistyped",
     "07/01/2025 14:20"],
    ["nisha.rao@example.com", "Nisha", "Rao", "9845098450", "Karnataka", "ADM-2025-000105",
     "B.Tech", "2024", "maybe", "105", "31-02-2006", "Open", "", "Several mistakes on purpose",
     "08/01/2025 16:00"],
    ["", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
    ["dev.malhotra@example.com", "Dev", "Malhotra", "9811198111", "Punjab", "ADM-2025-000106",
     "BBA", "2025", "1", "71.0", "05/05/2006", "Lost", "", "Lost without a reason",
     "09/01/2025 12:00"],
    ["zoya.hussain@example.com", "Zoya", "Hussain", "9833098330", "Maharashtra",
     "ADM-2025-000107", "MBA", "2025", "0", "81", "19-12-2000", "Open", "", "",
     "2025-01-09 15:30"],
    ["aman.gill@example.com", "Aman", "Gill", "9815098150", "Punjab", "ADM-2025-000101",
     "B.Tech", "2025", "no", "66", "11-01-2007", "Open", "", "Same application number as row 2",
     "10/01/2025 10:00"],
]  # fmt: skip


def write_admissions() -> None:
    with (HERE / "admissions.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(ADMISSION_HEADERS)
        writer.writerows(ADMISSIONS)


if __name__ == "__main__":
    write_loans()
    write_admissions()
    print(f"Wrote loans.csv, loans.xlsx and admissions.csv in {HERE}")
