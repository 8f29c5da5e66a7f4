"""Build the demo source, "Demo Summit", with thousands of leads from around the world.

`leadgate demo` and the first start of `leadgate serve` build it. The leads come from the same deterministic
generator the benchmarks use, so the demo shows what real event data looks like: names in many scripts,
countries typed every way, and the usual share of free-mail addresses, picklist surprises and mangled phones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from leadgate.demo import generator as g
from leadgate.leads.models import Lead, ReceivedVia
from leadgate.leads.services import Actor, process_leads
from leadgate.sources.definition_file import apply_definition
from leadgate.sources.models import Source

DEMO_SLUG = "demo-summit"


def definition() -> dict[str, Any]:
    """The demo's definition file, built from the generator's vocabulary so the two can never drift apart."""
    return {
        "picklists": [
            {
                "key": "job_level",
                "name": "Job Level",
                "values": list(g.JOB_LEVELS),
                "aliases": g.JOB_LEVEL_ALIASES,
            },
            {
                "key": "company_size",
                "name": "Company Size",
                "values": list(g.COMPANY_SIZES),
                "aliases": g.COMPANY_SIZE_ALIASES,
            },
            {
                "key": "industry",
                "name": "Industry",
                "values": list(g.INDUSTRIES),
                "aliases": g.INDUSTRY_ALIASES,
            },
        ],
        "list_mappers": [
            {
                "key": "job_level_to_crm",
                "name": "Job Level → CRM",
                "picklist": "job_level",
                "entries": {
                    "C-Level": "Executive",
                    "VP": "Executive",
                    "Director": "Director",
                    "Manager": "Manager",
                },
            }
        ],
        "domain_lists": [
            {"key": "free_email", "name": "Free mail providers", "builtin": "free"},
            {"key": "disposable_email", "name": "Disposable mail providers", "builtin": "disposable"},
        ],
        "suppression_lists": [
            {"key": "do_not_contact", "name": "Do not contact", "emails": ["ceo@example.com"], "domains": []},
        ],
        "sources": [
            {
                "slug": DEMO_SLUG,
                "name": "Demo Summit",
                "kind": "event",
                "status": "live",
                "timezone": "Europe/Berlin",
                "dedupe": {"key": "email", "scope": "source", "lookback_days": 365},
                "suppression_lists": ["do_not_contact"],
                "form": True,  # the hosted capture form, at /f/demo-summit
                "fields": [
                    {
                        "key": "email",
                        "label": "Email",
                        "type": "email",
                        "required": True,
                        "aliases": ["Email Address", "E-mail"],
                        "domain_lists": [
                            {"list": "free_email", "mode": "exclude"},
                            {"list": "disposable_email", "mode": "exclude"},
                        ],
                    },
                    {"key": "first_name", "label": "First Name", "required": True, "max_length": 40},
                    {"key": "last_name", "label": "Last Name", "required": True, "max_length": 40},
                    {"key": "company", "label": "Company", "max_length": 80},
                    {"key": "job_title", "label": "Job Title"},
                    {"key": "job_level", "label": "Job Level", "type": "picklist", "picklist": "job_level"},
                    {
                        "key": "company_size",
                        "label": "Company Size",
                        "type": "picklist",
                        "picklist": "company_size",
                    },
                    {"key": "industry", "label": "Industry", "type": "picklist", "picklist": "industry"},
                    {"key": "country", "label": "Country", "type": "country", "required": True},
                    {"key": "state", "label": "State/Province", "type": "state"},
                    {"key": "city", "label": "City"},
                    {"key": "postal_code", "label": "Postal Code"},
                    {"key": "phone", "label": "Phone", "type": "phone"},
                    {"key": "opt_in", "label": "Opt-in", "type": "consent", "required": True},
                    {"key": "registered_on", "label": "Registered On", "type": "date"},
                    {"key": "website", "label": "Website", "type": "url"},
                    {"key": "notes", "label": "Notes", "max_length": 500},
                ],
            }
        ],
    }


def build_demo(leads: int = 5000, seed: int = 2026) -> Source:
    """Create the demo source, or refresh it: its leads are replaced, so running it twice doubles nothing."""
    apply_definition(yaml.safe_dump(definition(), allow_unicode=True, sort_keys=False))
    source = Source.objects.get(slug=DEMO_SLUG)
    with transaction.atomic():
        Lead.objects.filter(source=source).delete()
    # Spread submissions over the two event days, so the demo's leads-over-time chart has a shape.
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=2)
    rows = list(g.generate_leads(leads, seed=seed))
    per_hour = max(1, len(rows) // 48)
    for hour, offset in enumerate(range(0, len(rows), per_hour)):
        process_leads(
            source,
            rows[offset : offset + per_hour],
            received_via=ReceivedVia.EVENT_APP,
            actor=Actor("demo"),
            submitted_at=start + dt.timedelta(hours=hour),
        )
    return source
