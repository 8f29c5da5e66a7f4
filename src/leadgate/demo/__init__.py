"""The demo: a realistic event source, "Demo Summit", with thousands of leads from around the world.

`leadgate demo` and the first start of `leadgate serve` build it. The leads come from the same deterministic
generator the benchmarks use, so the demo shows what real event data looks like: names in many scripts,
countries typed every way, and the usual share of free-mail addresses, picklist surprises and mangled phones.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from leadgate.demo.generator import generate_leads
from leadgate.leads.models import Lead, ReceivedVia
from leadgate.leads.services import Actor, process_leads
from leadgate.sources.definition_file import apply_definition
from leadgate.sources.models import Source

DEMO_SLUG = "demo-summit"
DEFINITION = Path(__file__).with_name("demo_summit.yaml")


def build_demo(leads: int = 5000, seed: int = 2026) -> Source:
    """Create the demo source, or refresh it: its leads are replaced, so running it twice doubles nothing."""
    apply_definition(DEFINITION.read_text(encoding="utf-8"))
    source = Source.objects.get(slug=DEMO_SLUG)
    with transaction.atomic():
        Lead.objects.filter(source=source).delete()
    # Spread submissions over the two event days, so the demo's leads-over-time chart has a shape.
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=2)
    rows = list(generate_leads(leads, seed=seed))
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
