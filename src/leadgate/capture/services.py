"""Use cases of the capture form: is it taking submissions, and take one in."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from leadgate.leads.dedupe import ORIGINAL_STATUSES
from leadgate.leads.models import Lead, ReceivedVia
from leadgate.leads.services import Actor, lock_source, process_leads, reprocess_leads
from leadgate.rules.catalogue import Status
from leadgate.sources.models import Source

from .visitor_text import FIXABLE_CODES

CAPTURE_FORM = Actor("capture form")


def accepting(source: Source) -> bool:
    """Whether the form should be offered: the source is live and its allocation is not used up.

    Only a hint for the page shown; the rule engine still decides every submission, so a visitor who opened
    the form just before the cap was reached is told so after sending.
    """
    if not source.is_live:
        return False
    if source.allocation is None:
        return True
    return Lead.objects.filter(source=source, status__in=ORIGINAL_STATUSES).count() < source.allocation


def submit(source: Source, values: Mapping[str, str], *, correcting: str | None = None) -> Lead:
    """Store and decide one visitor's submission and return the lead as decided.

    ``correcting`` is the lead_id of the visitor's own rejected lead (from the form they were sent back to):
    their corrected values are then recorded as edits of that lead and it is decided again, so the marketer
    sees one lead with its correction in its history rather than a rejected lead and a second one. That
    happens only while the lead is still rejected for a reason the visitor could fix; otherwise (staff have
    accepted or rejected it by hand since, or it is not this source's) the submission is a new lead.
    """
    if correcting:
        with transaction.atomic():
            # The source row first, as the lead services lock it, so this never waits in the opposite order.
            lock_source(source)
            lead = (
                Lead.objects.select_for_update()
                .filter(
                    source=source,
                    lead_id=correcting,
                    status=Status.REJECTED,
                    disposition_code__in=FIXABLE_CODES,
                )
                .first()
            )
            if lead is not None:
                reprocess_leads(
                    source,
                    [lead.lead_id],
                    actor=CAPTURE_FORM,
                    note="Corrected by the visitor on the capture form.",
                    edits={lead.lead_id: dict(values)},
                )
                lead.refresh_from_db()
                return lead
    [lead] = process_leads(source, [dict(values)], received_via=ReceivedVia.FORM, actor=CAPTURE_FORM)
    return lead
