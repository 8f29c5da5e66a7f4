"""A lead as a Django developer would model the 17 columns of ``leadgate.demo.generator``.

The model holds what the database and ``Model.full_clean`` enforce: required fields (``blank=False``), the
text length limits of ``bench.rules.default_rules()``, the picklists' canonical values as ``choices``, an
http(s) URL, and one lead per email address ignoring case (a functional unique constraint, which
``full_clean`` checks with a query). Everything else is checked by the resource's widgets.
"""

from __future__ import annotations

from django.core.validators import URLValidator
from django.db import models
from django.db.models.functions import Lower

from leadgate.demo.generator import COMPANY_SIZES, INDUSTRIES, JOB_LEVELS


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


class Lead(models.Model):
    email = models.CharField(max_length=254)
    first_name = models.CharField(max_length=40)
    last_name = models.CharField(max_length=40)
    company = models.CharField(max_length=80, blank=True)
    job_title = models.TextField(blank=True)
    job_level = models.CharField(max_length=40, blank=True, choices=_choices(JOB_LEVELS))
    company_size = models.CharField(max_length=40, blank=True, choices=_choices(COMPANY_SIZES))
    industry = models.CharField(max_length=40, blank=True, choices=_choices(INDUSTRIES))
    country = models.CharField(max_length=80)
    state = models.TextField(blank=True)
    city = models.TextField(blank=True)
    postal_code = models.TextField(blank=True)
    phone = models.CharField(max_length=20, blank=True)  # E.164
    opt_in = models.BooleanField(default=False)
    registered_on = models.DateField(null=True, blank=True)
    website = models.URLField(
        max_length=2048, blank=True, validators=[URLValidator(schemes=["http", "https"])]
    )
    notes = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, default="accepted")
    disposition = models.CharField(max_length=40, default="ACCEPT_LEAD")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="peer_lead_email_ci_unique")]

    def __str__(self) -> str:
        return self.email
