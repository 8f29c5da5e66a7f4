"""The lead generator behind the demo and the benchmark: deterministic, and its labels are right."""

from __future__ import annotations

from collections import Counter

from bench.rules import default_rules
from leadgate.demo.generator import EXPECTED_DISPOSITION, LeadKind, generate_labelled, generate_leads
from leadgate.rules.engine import Engine
from leadgate.rules.outcome import LeadInput


def test_the_same_seed_gives_the_same_leads():
    assert list(generate_leads(300, seed=7)) == list(generate_leads(300, seed=7))
    assert list(generate_leads(300, seed=7)) != list(generate_leads(300, seed=8))


def test_every_lead_gets_the_disposition_its_kind_expects():
    labelled = list(generate_labelled(3000, seed=11))
    leads = [LeadInput(f"LD-TEST{i:08d}", row) for i, (_kind, row) in enumerate(labelled)]
    decisions = Engine(default_rules()).decide(leads)
    wrong = [
        (kind, d.disposition_code, d.custom_reason)
        for (kind, _row), d in zip(labelled, decisions, strict=True)
        if d.disposition_code != EXPECTED_DISPOSITION[kind]
    ]
    assert wrong == []
    kinds = Counter(kind for kind, _row in labelled)
    assert kinds[LeadKind.CLEAN] > 2500 and len(kinds) == len(LeadKind)
