"""The words people put over a column, for each LeadSquared field a mapping can target.

Standard lead fields (Lead Management > Lead Fields, by Schema Name), the opportunity's
note and date, and the opportunity fields whose Schema Names LeadSquared fixes
(`mx_Custom_1` the opportunity name, `Status`, `mx_Custom_19` the status comment, per
the Capture Opportunities page; `mx_Custom_2` the stage, as in that page's example).
Names include what Indian CRM exports write ("E-mail ID", "Mobile No.", "Pincode").
"""

from __future__ import annotations

from dataclasses import dataclass

from importer.rules.mapping.mapping import FieldType


@dataclass(frozen=True)
class FieldWords:
    """One target a column can go to, what it holds, and the headers people give it."""

    target: str  # as Mapping.targets() names it: lead.EmailAddress, note, opportunity.Status
    label: str  # how a person calls it
    type: FieldType
    names: tuple[str, ...]
    # headers that mean "a whole name" and fit this field less exactly
    loose_names: tuple[str, ...] = ()
    # free text (names, cities): never an `allowed` list, however few values a file has
    free_text: bool = True


FIELDS: tuple[FieldWords, ...] = (
    FieldWords(
        "lead.EmailAddress",
        "email address",
        "email",
        (
            "email",
            "email address",
            "email id",
            "mail id",
            "mail",
            "emailid",
            "email addr",
            "customer email",
            "customer email id",
            "lead email",
            "contact email",
            "primary email",
            "personal email",
            "official email",
            "work email",
            "applicant email",
            "student email",
            "borrower email",
        ),
    ),
    FieldWords(
        "lead.FirstName",
        "first name",
        "string",
        (
            "first name",
            "firstname",
            "fname",
            "given name",
            "forename",
            "customer first name",
            "lead first name",
            "applicant first name",
            "student first name",
            "contact first name",
        ),
        loose_names=(
            "name",
            "full name",
            "customer name",
            "lead name",
            "contact name",
            "contact person",
            "client name",
            "applicant name",
            "student name",
            "candidate name",
            "borrower name",
            "prospect name",
            "person name",
            "customer full name",
        ),
    ),
    FieldWords(
        "lead.LastName",
        "last name",
        "string",
        (
            "last name",
            "lastname",
            "lname",
            "surname",
            "family name",
            "customer last name",
            "lead last name",
            "applicant last name",
            "student last name",
            "contact last name",
        ),
    ),
    FieldWords(
        "lead.Mobile",
        "mobile number",
        "phone",
        (
            "mobile",
            "mobile phone",
            "cell",
            "cell phone",
            "cellphone",
            "contact",
            "whatsapp",
            "customer mobile",
            "customer contact",
            "lead mobile",
            "registered mobile",
            "primary mobile",
            "contact mobile",
            "applicant mobile",
            "student mobile",
            "borrower mobile",
            "mobile 1",
            "primary contact",
        ),
    ),
    FieldWords(
        "lead.Phone",
        "phone number",
        "phone",
        (
            "phone",
            "telephone",
            "tel",
            "landline",
            "work phone",
            "office phone",
            "home phone",
            "alternate",
            "alternate phone",
            "alternate mobile",
            "alternate contact",
            "alt phone",
            "alt mobile",
            "secondary phone",
            "secondary mobile",
            "other phone",
            "mobile 2",
            "phone 2",
        ),
    ),
    FieldWords(
        "lead.mx_City",
        "city",
        "string",
        ("city", "city town", "town", "city name", "current city", "residence city", "town city"),
    ),
    FieldWords("lead.mx_State", "state", "string", ("state", "state name", "province", "state ut")),
    FieldWords("lead.mx_Country", "country", "string", ("country", "country name", "nation")),
    FieldWords(
        "lead.mx_Zip",
        "PIN code",
        "string",
        (
            "pincode",
            "pin code",
            "pin",
            "zip",
            "zip code",
            "zipcode",
            "postal code",
            "postcode",
            "post code",
            "area pincode",
        ),
    ),
    FieldWords(
        "lead.mx_Street1",
        "address",
        "string",
        (
            "address",
            "street",
            "street address",
            "address line 1",
            "address 1",
            "address1",
            "residential address",
            "full address",
            "current address",
            "postal address",
        ),
    ),
    FieldWords(
        "lead.Company",
        "company",
        "string",
        (
            "company",
            "company name",
            "organisation",
            "organization",
            "organisation name",
            "organization name",
            "employer",
            "employer name",
            "firm",
            "firm name",
            "business name",
            "account name",
        ),
    ),
    FieldWords(
        "lead.JobTitle",
        "job title",
        "string",
        ("job title", "designation", "position", "job role", "role", "occupation", "title"),
    ),
    FieldWords(
        "lead.Source",
        "lead source",
        "string",
        (
            "source",
            "lead source",
            "lead channel",
            "enquiry source",
            "inquiry source",
            "source of lead",
            "lead origin",
            "utm source",
        ),
        free_text=False,
    ),
    FieldWords(
        "lead.SourceCampaign",
        "campaign",
        "string",
        ("campaign", "campaign name", "lead campaign", "utm campaign", "source campaign"),
    ),
    FieldWords(
        "lead.SourceMedium",
        "source medium",
        "string",
        ("medium", "utm medium", "source medium", "channel"),
        free_text=False,
    ),
    FieldWords(
        "lead.Website",
        "website",
        "string",
        ("website", "web site", "url", "website url", "company website", "web"),
    ),
    FieldWords(
        "lead.DOB",
        "date of birth",
        "date",
        ("dob", "date of birth", "birth date", "birthdate", "birthday", "d o b"),
    ),
    FieldWords(
        "lead.ProspectStage",
        "lead stage",
        "string",
        ("lead stage", "prospect stage", "lead status"),
        free_text=False,
    ),
    FieldWords(
        "note",
        "opportunity note",
        "string",
        (
            "notes",
            "note",
            "remarks",
            "remark",
            "comments",
            "comment",
            "description",
            "additional info",
            "additional information",
            "agent remarks",
            "sales remarks",
            "feedback",
            "observations",
            "lead notes",
        ),
    ),
    FieldWords(
        "datetime",
        "opportunity date",
        "datetime",
        (
            "opportunity date",
            "opportunity datetime",
            "opportunity time",
            "enquiry date",
            "enquiry time",
            "enquiry datetime",
            "date of enquiry",
            "inquiry date",
            "inquiry time",
            "lead date",
            "lead created on",
            "created on",
            "created date",
            "created at",
            "creation date",
            "submitted on",
            "submission date",
            "timestamp",
            "date",
        ),
    ),
    FieldWords(
        "opportunity.mx_Custom_1",
        "opportunity name",
        "string",
        ("opportunity name", "opportunity", "opportunity title", "deal name", "deal title"),
    ),
    FieldWords(
        "opportunity.mx_Custom_2",
        "opportunity stage",
        "string",
        ("stage", "opportunity stage", "deal stage", "pipeline stage", "sales stage"),
        free_text=False,
    ),
    FieldWords(
        "opportunity.Status",
        "opportunity status",
        "string",
        ("status", "opportunity status", "deal status"),
        free_text=False,
    ),
    FieldWords(
        "opportunity.mx_Custom_19",
        "status comment",
        "string",
        (
            "status comment",
            "status comments",
            "status reason",
            "status remark",
            "won lost reason",
            "closure reason",
            "loss reason",
            "lost reason",
            "reason",
        ),
    ),
)

BY_TARGET: dict[str, FieldWords] = {field.target: field for field in FIELDS}

# Abbreviations spelled out before headers are compared ("Mob. No." = "mobile number").
ABBREVIATIONS: dict[str, str] = {
    "no": "number",
    "num": "number",
    "nbr": "number",
    "mob": "mobile",
    "ph": "phone",
    "tel": "telephone",
    "cust": "customer",
    "addr": "address",
    "org": "organisation",
    "dt": "date",
    "amt": "amount",
    "qty": "quantity",
    "desc": "description",
}
# Words that say nothing about which field a column is ("Mobile Number" = "Mobile").
FILLER_WORDS = frozenset({"number", "the", "of", "details", "detail"})
