"""The disposition catalogue: the one definition of every disposition code.

The order of ``CATALOGUE`` is the order of the checks (SPEC §2): a lead's disposition code is the code of its
first failing check in this order, and every failure is kept in its problems. The UI, the API, the CLI
(`leadgate dispositions`) and docs/dispositions.md are all generated from this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    PROCESSING = "processing"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_REVIEW = "in_review"
    FAILED = "failed"


@dataclass(frozen=True)
class Disposition:
    code: str
    status: Status
    title: str
    when: str
    action: str
    #: Decided by the rule engine (as opposed to a reviewer or a destination).
    engine: bool = True


CATALOGUE: tuple[Disposition, ...] = (
    Disposition(
        "ACCEPT_LEAD",
        Status.ACCEPTED,
        "Accepted",
        "The lead passed every check.",
        "Nothing to do: the lead is posted to the source's destinations.",
    ),
    Disposition(
        "REJECT_LEAD_SOURCE_NOT_LIVE",
        Status.REJECTED,
        "Source not live",
        "The source was not live (draft, paused or closed) when the lead arrived.",
        "Set the source live, then reprocess the leads if they should count.",
    ),
    Disposition(
        "REJECT_LEAD_MISSING_REQUIRED_FIELD",
        Status.REJECTED,
        "Missing required field",
        "A required field is empty, or a required consent was not given.",
        "Fill in the field and upload the lead again, or make the field optional.",
    ),
    Disposition(
        "REJECT_LEAD_INVALID_EMAIL",
        Status.REJECTED,
        "Invalid email",
        "The email address is not valid (RFC 5321/5322 syntax with internationalised domains).",
        "Correct the address; usually this rejection is right and the lead stays rejected.",
    ),
    Disposition(
        "REJECT_LEAD_UNDELIVERABLE_EMAIL",
        Status.REJECTED,
        "Undeliverable email",
        "The optional DNS/MX check found no mail server for the email's domain.",
        "Correct the domain, or turn the deliverability check off for the field.",
    ),
    Disposition(
        "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN",
        Status.REJECTED,
        "Blocked email domain",
        "The email's domain is on an exclude list (free mail, disposable mail, competitors…).",
        "Keep it rejected, or allow the domain for this source if the programme accepts it.",
    ),
    Disposition(
        "REJECT_LEAD_DOMAIN_NOT_ALLOWED",
        Status.REJECTED,
        "Domain not allowed",
        "The email's domain is not on the field's allow list (account-based programmes).",
        "Add the domain to the allow list if the account belongs to the programme.",
    ),
    Disposition(
        "REJECT_LEAD_INVALID_LIST_VALUE",
        Status.REJECTED,
        "Invalid list value",
        "The value is neither a value nor an alias on the field's picklist.",
        "Add the value to the picklist or map it as an alias (and update the list mappers), then reprocess.",
    ),
    Disposition(
        "REJECT_LEAD_DISALLOWED_LIST_VALUE",
        Status.REJECTED,
        "Disallowed list value",
        "The value is on the picklist but not in the subset this source allows.",
        "Allow the value for this source, or correct the lead.",
    ),
    Disposition(
        "REJECT_LEAD_INVALID_PHONE",
        Status.REJECTED,
        "Invalid phone",
        "The phone number is not a valid number for the lead's country "
        "(the reason says when a spreadsheet mangled it, e.g. 4.41632E+11).",
        "Correct the number, keeping the column as text in the spreadsheet.",
    ),
    Disposition(
        "REJECT_LEAD_INVALID_COUNTRY",
        Status.REJECTED,
        "Invalid country",
        "The country is not a known country name or ISO code.",
        "Correct the country; common names, ISO codes and local names are all understood.",
    ),
    Disposition(
        "REJECT_LEAD_INVALID_STATE",
        Status.REJECTED,
        "Invalid state",
        "The state or province is not a subdivision of the lead's country.",
        "Correct the state or province (codes and names are both accepted).",
    ),
    Disposition(
        "REJECT_LEAD_INVALID_VALUE",
        Status.REJECTED,
        "Invalid value",
        "A number, date, boolean or URL does not parse, or is out of range.",
        "Correct the value in the format the reason names.",
    ),
    Disposition(
        "REJECT_LEAD_FIELD_TOO_LONG",
        Status.REJECTED,
        "Field too long",
        "The value is longer than the field's maximum length.",
        "Shorten the value, or raise the field's maximum length.",
    ),
    Disposition(
        "REJECT_LEAD_SUPPRESSED",
        Status.REJECTED,
        "Suppressed",
        "The email or its domain is on a suppression list (do-not-contact, competitors, returned leads).",
        "Keep it rejected.",
    ),
    Disposition(
        "REJECT_LEAD_DUPLICATE",
        Status.REJECTED,
        "Duplicate",
        "Another lead with the same dedupe key was already accepted (the reason names its LeadID).",
        "Keep it rejected, or change the source's dedupe rule.",
    ),
    Disposition(
        "REJECT_LEAD_ALLOCATION_REACHED",
        Status.REJECTED,
        "Allocation reached",
        "The source's lead cap was already reached.",
        "Raise the allocation, then reprocess.",
    ),
    Disposition(
        "REJECT_LEAD_MANUAL",
        Status.REJECTED,
        "Rejected by a reviewer",
        "A reviewer rejected the lead (the reviewer's reason is the custom reason).",
        "Nothing, unless the reviewer was wrong: then approve the lead.",
        engine=False,
    ),
    Disposition(
        "REJECT_LEAD_DESTINATION",
        Status.REJECTED,
        "Refused by destination",
        "The MA/CRM refused the lead permanently (its reason is the custom reason).",
        "Fix the lead or the destination's mapping, then redeliver.",
        engine=False,
    ),
    Disposition(
        "FAILED_PROCESSING_ERROR",
        Status.FAILED,
        "Processing error",
        "An internal error occurred while checking the lead; nothing was lost.",
        "Reprocess the lead; if it fails again, report the error from its history.",
        engine=False,
    ),
)

BY_CODE: dict[str, Disposition] = {d.code: d for d in CATALOGUE}
#: Position of each code in check order; problems are sorted by it.
ORDER: dict[str, int] = {d.code: i for i, d in enumerate(CATALOGUE)}

ACCEPT_LEAD = "ACCEPT_LEAD"
SOURCE_NOT_LIVE = "REJECT_LEAD_SOURCE_NOT_LIVE"
MISSING_REQUIRED_FIELD = "REJECT_LEAD_MISSING_REQUIRED_FIELD"
INVALID_EMAIL = "REJECT_LEAD_INVALID_EMAIL"
UNDELIVERABLE_EMAIL = "REJECT_LEAD_UNDELIVERABLE_EMAIL"
BLOCKED_EMAIL_DOMAIN = "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN"
DOMAIN_NOT_ALLOWED = "REJECT_LEAD_DOMAIN_NOT_ALLOWED"
INVALID_LIST_VALUE = "REJECT_LEAD_INVALID_LIST_VALUE"
DISALLOWED_LIST_VALUE = "REJECT_LEAD_DISALLOWED_LIST_VALUE"
INVALID_PHONE = "REJECT_LEAD_INVALID_PHONE"
INVALID_COUNTRY = "REJECT_LEAD_INVALID_COUNTRY"
INVALID_STATE = "REJECT_LEAD_INVALID_STATE"
INVALID_VALUE = "REJECT_LEAD_INVALID_VALUE"
FIELD_TOO_LONG = "REJECT_LEAD_FIELD_TOO_LONG"
SUPPRESSED = "REJECT_LEAD_SUPPRESSED"
DUPLICATE = "REJECT_LEAD_DUPLICATE"
ALLOCATION_REACHED = "REJECT_LEAD_ALLOCATION_REACHED"
MANUAL = "REJECT_LEAD_MANUAL"
DESTINATION = "REJECT_LEAD_DESTINATION"
FAILED_PROCESSING_ERROR = "FAILED_PROCESSING_ERROR"


def as_markdown() -> str:
    """The catalogue as the Markdown page docs/dispositions.md (a test keeps that file in step)."""
    lines = [
        "# Disposition codes",
        "",
        "<!-- Generated from src/leadgate/rules/catalogue.py by `leadgate dispositions --markdown`."
        " Do not edit by hand. -->",
        "",
        "A lead's disposition code is the code of its first failing check, in the order of this table; every",
        "failed check is kept in the lead's problems. The custom reason names the field, the offending value",
        "and, where there is one, a suggestion.",
        "",
        "| # | code | status | when | what to do |",
        "|---|---|---|---|---|",
    ]
    for i, d in enumerate(CATALOGUE, 1):
        lines.append(f"| {i} | `{d.code}` | {d.status.value} | {d.when} | {d.action} |")
    return "\n".join(lines) + "\n"
