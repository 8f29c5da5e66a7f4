"""A lead's history: its stored events, and the "received" event of a lead an upload created.

Uploads create leads by the million and write no "received" event for them: it would only repeat what the
lead's row and its upload already hold. The event is made here instead, from the lead (when it arrived),
its upload (who uploaded which file) and its first stored event, whose "before" is the decision the lead
arrived with (with no later event, the lead's decision is still that one).
"""

from __future__ import annotations

from .models import Lead, LeadEvent, ReceivedVia


def lead_history(lead: Lead) -> list[LeadEvent]:
    """The lead's events, oldest first."""
    events = list(lead.events.select_related("user").order_by("at", "id"))
    if lead.received_via != ReceivedVia.UPLOAD or any(e.kind == LeadEvent.Kind.RECEIVED for e in events):
        return events  # received some other way, or uploaded before uploads stopped storing the event
    first = events[0] if events else None
    status, code = (first.status_before, first.code_before) if first else (lead.status, lead.disposition_code)
    upload = lead.upload
    received = LeadEvent(
        lead=lead,
        at=lead.submitted_at,
        kind=LeadEvent.Kind.RECEIVED,
        user=upload.user if upload else None,
        actor=upload.actor_label if upload else "upload",
        status_after=status,
        code_after=code,
    )
    return [received, *events]
