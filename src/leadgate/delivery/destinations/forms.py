"""The part of the destination form that depends on the kind: its settings and its one secret.

Each kind's ``forms.py`` subclasses `KindForm`, adds its settings as form fields and names its config class;
the web UI puts it under the common fields (name, URL, enabled) and stores `config()` and the secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms

from leadgate.delivery.destinations.base import ConfigError


class KindForm(forms.Form):
    secret_label: ClassVar[str] = "Secret"  # noqa: S105 (a label)
    secret_help: ClassVar[str] = "Stored encrypted. Leave empty to keep the current one."  # noqa: S105 (a help text)
    load_config: ClassVar[Callable[..., Any]]  # the kind's Config.load

    secret = forms.CharField(required=False, strip=True, widget=forms.PasswordInput(render_value=False))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["secret"].label = self.secret_label
        self.fields["secret"].help_text = self.secret_help

    def config(self) -> dict[str, Any]:
        """The settings as ``Destination.config`` stores them (empty ones left out)."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "secret" and value not in ("", None)
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            try:
                type(self).load_config(self.config())
            except ConfigError as exc:
                raise forms.ValidationError(str(exc)) from None
        return cleaned
