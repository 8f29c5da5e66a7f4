"""Micro benchmark of the rule engine alone: realistic source rules, synthetic leads built in memory.

    .venv/bin/python bench/engine_profile.py [N] [--profile] [--batch 10000]

Prints leads/s for Engine.decide over N leads (default 200,000) in batches through one Engine, as the
upload and reprocess paths use it. ``--profile`` runs cProfile and prints the top functions instead.
The columns (17): email, first/last name, company, job title, job level, company size and industry
picklists, country, state, phone, city, postal code, consent, a date, a url and notes. About one lead in
ten has something wrong (free-mail domain, unknown picklist value, damaged phone, bad date…).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from leadgate.rules.definitions import (
    DedupeKey,
    DedupeRule,
    DomainList,
    DomainMode,
    DomainRule,
    FieldRule,
    FieldType,
    Picklist,
    SourceRules,
    SuppressionList,
)
from leadgate.rules.engine import Engine
from leadgate.rules.outcome import LeadInput

JOB_LEVEL = Picklist(
    "job_level",
    "Job Level",
    ("C-Level", "VP", "Director", "Manager", "Individual Contributor", "Other"),
    {"Vice President": "VP", "Chief": "C-Level", "IC": "Individual Contributor"},
)
COMPANY_SIZE = Picklist("company_size", "Company Size", ("1-49", "50-249", "250-999", "1000-4999", "5000+"))
INDUSTRY = Picklist(
    "industry",
    "Industry",
    ("Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Education", "Government"),
    {"Finance": "Financial Services", "Tech": "Software"},
)

RULES = SourceRules(
    slug="data-summit-2026",
    fields=(
        FieldRule(
            "email",
            "Email",
            FieldType.EMAIL,
            required=True,
            domain_rules=(
                DomainRule(DomainList("free_email", builtin="free"), DomainMode.EXCLUDE),
                DomainRule(DomainList("disposable", builtin="disposable"), DomainMode.EXCLUDE),
                DomainRule(DomainList("competitors", ("rival.com", "competitor.*")), DomainMode.EXCLUDE),
            ),
        ),
        FieldRule("first_name", "First Name", required=True, max_length=40),
        FieldRule("last_name", "Last Name", required=True, max_length=80),
        FieldRule("company", "Company", required=True, max_length=120),
        FieldRule("job_title", "Job Title", max_length=120),
        FieldRule("job_level", "Job Level", FieldType.PICKLIST, required=True, picklist=JOB_LEVEL),
        FieldRule("company_size", "Company Size", FieldType.PICKLIST, picklist=COMPANY_SIZE),
        FieldRule("industry", "Industry", FieldType.PICKLIST, picklist=INDUSTRY),
        FieldRule("country", "Country", FieldType.COUNTRY, required=True),
        FieldRule("state", "State", FieldType.STATE),
        FieldRule("phone", "Phone", FieldType.PHONE),
        FieldRule("city", "City", max_length=80),
        FieldRule("postal_code", "Postal Code", max_length=20),
        FieldRule("opt_in", "Opt-in", FieldType.CONSENT, required=True),
        FieldRule("visit_date", "Visit Date", FieldType.DATE),
        FieldRule("website", "Website", FieldType.URL),
        FieldRule("notes", "Notes", max_length=2000),
    ),
    dedupe=DedupeRule(DedupeKey.EMAIL),
    suppression_lists=(SuppressionList("do_not_contact", ("ceo@example.com",), ("blocked.example",)),),
)

FIRST = [
    "Ann",
    "Bob",
    "Chloé",
    "Dmitri",
    "Eva",
    "François",
    "Günter",
    "Hiro",
    "Ines",
    "José",
    "Kai",
    "Lena",
    "Mateo",
    "Nora",
    "Oskar",
    "Priya",
    "Zoë",
]
LAST = [
    "Smith",
    "Müller",
    "García",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Nakamura",
    "Silva",
    "O'Brien",
    "Jensen",
    "Novák",
    "Łukasiewicz",
]
COMPANIES = [
    f"{w} {s}"
    for w in ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay"]
    for s in ("Inc", "GmbH", "Ltd")
]
TITLES = ["CTO", "Head of Data", "Data Engineer", "VP Marketing", "Analyst", "Director of IT", ""]
LEVELS = [
    "C-Level",
    "VP",
    "Director",
    "Manager",
    "Individual Contributor",
    "vice president",
    "director ",
    "Chief",
]
SIZES = ["1-49", "50-249", "250-999", "1000-4999", "5000+", ""]
INDUSTRIES = [
    "Software",
    "Financial Services",
    "Healthcare",
    "Finance",
    "Tech",
    "Retail",
    "Manufacturing",
    "",
]
PLACES = [
    ("United States", "CA", "San Francisco", "94105", "+1 415-555-{:04d}"),
    ("USA", "New York", "New York", "10001", "(212) 555-{:04d}"),
    ("Germany", "Berlin", "Berlin", "10115", "030 1234{:04d}"),
    ("DE", "BY", "München", "80331", "+49 89 1234{:04d}"),
    ("United Kingdom", "", "London", "SW1A 1AA", "+44 20 7946 {:04d}"),
    ("France", "", "Paris", "75001", "+33 1 42 68 {:04d}"),
    ("Japan", "Tokyo", "Tokyo", "100-0001", "+81 3-1234-{:04d}"),
    ("Canada", "ON", "Toronto", "M5H 2N2", "+1 416 555 {:04d}"),
]
DOMAINS = [
    "acme.com",
    "globex.de",
    "initech.co.uk",
    "umbrella.fr",
    "stark.io",
    "gmail.com",
    "hooli.com",
    "rival.com",
]


IDN_DOMAINS = ["müller.de", "bücher.example.com", "例子.广告"]


def ascii_name(name: str) -> str:
    """How people write their name in an email address: "Günter" → "gunter", "O'Brien" → "obrien"."""
    folded = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    return folded.replace("'", "").replace("ł", "l")


def make_leads(n: int, seed: int = 7) -> list[LeadInput]:
    rng = random.Random(seed)
    leads = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        country, state, city, postal, phone = rng.choice(PLACES)
        domain = rng.choice(DOMAINS) if rng.random() < 0.2 else f"company{rng.randrange(5000)}.com"
        values = {
            "email": f"{ascii_name(first)}.{ascii_name(last)}{i}@{domain}"
            if rng.random() < 0.98
            else f"{first.lower()}@{rng.choice(IDN_DOMAINS)}",
            "first_name": first,
            "last_name": last,
            "company": rng.choice(COMPANIES),
            "job_title": rng.choice(TITLES),
            "job_level": rng.choice(LEVELS) if rng.random() < 0.98 else "Chief Wizard",
            "company_size": rng.choice(SIZES),
            "industry": rng.choice(INDUSTRIES),
            "country": country,
            "state": state,
            "phone": phone.format(rng.randrange(10000)) if rng.random() < 0.97 else "4.41632E+11",
            "city": city,
            "postal_code": postal,
            "opt_in": rng.choice(["yes", "Yes", "true", "1", "x", "TRUE"]) if rng.random() < 0.98 else "no",
            "visit_date": rng.choice(["2026-03-14", "2026-03-15", "14.03.2026", "03/16/2026", "2026/03/16"])
            if rng.random() < 0.99
            else "03/04/2026",
            "website": rng.choice(["https://acme.com", "www.globex.de", "", "http://initech.co.uk/about"])
            if rng.random() < 0.99
            else "not a url",
            "notes": rng.choice(["", "Met at booth 12", "Wants a demo next week", "Follow up in Q3"]),
        }
        leads.append(LeadInput(f"LD-{i:08d}", values))
    return leads


def run(leads: list[LeadInput], batch: int) -> float:
    engine = Engine(RULES)
    start = time.perf_counter()
    for offset in range(0, len(leads), batch):
        engine.decide(leads[offset : offset + batch])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    leads = make_leads(args.n)
    run(leads[:2000], args.batch)  # warm the module-level caches (domain lists, phone metadata)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run(leads, args.batch)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    seconds = run(leads, args.batch)
    decisions = Engine(RULES).decide(leads[:20000])
    accepted = sum(d.accepted for d in decisions)
    print(
        f"{args.n} leads × {len(RULES.fields)} columns in {seconds:.2f} s: {args.n / seconds:,.0f} leads/s"
        f" ({seconds / args.n * 1e6:.1f} µs a lead; {accepted / len(decisions):.0%} accepted in a sample)"
    )


if __name__ == "__main__":
    main()
