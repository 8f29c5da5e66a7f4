"""Small filters for the web UI's numbers."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def count(value: int | None) -> str:
    """5000 → "5,000" (leadgate's UI is in English; the separator does not follow the browser's locale)."""
    return f"{value or 0:,}"


@register.filter
def percent(value: float | None) -> str:
    """A share of 0–100 as people read it: "12.3 %", "< 0.1 %" for a sliver, never "0.0 %" for some."""
    share = value or 0.0
    if 0 < share < 0.1:
        return "< 0.1 %"
    return f"{share:.1f} %"


@register.filter
def svg_number(value: float | None) -> str:
    """A number for an SVG attribute: always a decimal point, whatever the locale."""
    return f"{value or 0:.2f}"


@register.filter
def status_label(value: str) -> str:
    """A lead status as people read it: "in_review" → "In review"."""
    return value.replace("_", " ").capitalize()
