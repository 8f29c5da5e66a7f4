"""The default rule set for the leads of leadgate.demo.generator: a typical live event source.

Email required and checked against the built-in free-mail and disposable-mail lists (exclude mode); first
and last name required (40 characters at most); company up to 80; job level, company size and industry from
picklists with a few aliases; country required; state, phone, date and URL checked when given; consent
required; notes up to 500; dedupe on email within the source.
``leadgate.demo.generator.EXPECTED_DISPOSITION`` says what each kind of generated lead gets under these rules.
"""

from __future__ import annotations

from leadgate.demo.generator import (
    COMPANY_SIZE_ALIASES,
    COMPANY_SIZES,
    INDUSTRIES,
    INDUSTRY_ALIASES,
    JOB_LEVEL_ALIASES,
    JOB_LEVELS,
)
from leadgate.rules.definitions import (
    DedupeKey,
    DedupeRule,
    DedupeScope,
    DomainList,
    DomainMode,
    DomainRule,
    FieldRule,
    FieldType,
    Picklist,
    SourceRules,
)

JOB_LEVEL = Picklist("job_level", "Job Level", JOB_LEVELS, JOB_LEVEL_ALIASES)
COMPANY_SIZE = Picklist("company_size", "Company Size", COMPANY_SIZES, COMPANY_SIZE_ALIASES)
INDUSTRY = Picklist("industry", "Industry", INDUSTRIES, INDUSTRY_ALIASES)

FREE_EMAIL = DomainList("free_email", builtin="free")
DISPOSABLE_EMAIL = DomainList("disposable_email", builtin="disposable")


def default_rules(slug: str = "bench-event-2026") -> SourceRules:
    """The rules of a live event source whose fields are leadgate.demo.generator.COLUMNS."""
    return SourceRules(
        slug=slug,
        fields=(
            FieldRule(
                "email",
                "Email",
                FieldType.EMAIL,
                required=True,
                aliases=("Email Address", "E-mail"),
                domain_rules=(
                    DomainRule(FREE_EMAIL, DomainMode.EXCLUDE),
                    DomainRule(DISPOSABLE_EMAIL, DomainMode.EXCLUDE),
                ),
            ),
            FieldRule("first_name", "First Name", required=True, max_length=40),
            FieldRule("last_name", "Last Name", required=True, max_length=40),
            FieldRule("company", "Company", max_length=80),
            FieldRule("job_title", "Job Title"),
            FieldRule("job_level", "Job Level", FieldType.PICKLIST, picklist=JOB_LEVEL),
            FieldRule("company_size", "Company Size", FieldType.PICKLIST, picklist=COMPANY_SIZE),
            FieldRule("industry", "Industry", FieldType.PICKLIST, picklist=INDUSTRY),
            FieldRule("country", "Country", FieldType.COUNTRY, required=True),
            FieldRule("state", "State/Province", FieldType.STATE),
            FieldRule("city", "City"),
            FieldRule("postal_code", "Postal Code"),
            FieldRule("phone", "Phone", FieldType.PHONE),
            FieldRule("opt_in", "Opt-in", FieldType.CONSENT, required=True),
            FieldRule("registered_on", "Registered On", FieldType.DATE),
            FieldRule("website", "Website", FieldType.URL),
            FieldRule("notes", "Notes", max_length=500),
        ),
        dedupe=DedupeRule(DedupeKey.EMAIL, DedupeScope.SOURCE),
    )
