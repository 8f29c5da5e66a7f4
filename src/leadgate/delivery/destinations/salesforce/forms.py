"""The Salesforce destination's form: the connected app, and where the LeadID goes (the URL is common)."""

from __future__ import annotations

from django import forms

from leadgate.delivery.destinations.forms import KindForm
from leadgate.delivery.destinations.salesforce.config import Config


class Form(KindForm):
    secret_label = "Connected app client secret"  # noqa: S105
    secret_help = "The connected app's consumer secret. Leave empty to keep the current one."  # noqa: S105
    load_config = Config.load

    client_id = forms.CharField(
        label="Consumer key (client id)",
        help_text="Of the connected app; the destination's URL is the org's My Domain, such as "
        "https://acme.my.salesforce.com.",
    )
    api_version = forms.CharField(label="API version", required=False, initial="v62.0")
    object = forms.CharField(label="Object", required=False, initial="Lead")
    external_id_field = forms.CharField(
        label="External-id field",
        required=False,
        initial="LeadGate_Lead_ID__c",
        help_text="A text field marked External ID and Unique that holds the LeadID, so a retry updates "
        "the record instead of creating a second one.",
    )
