"""The source's Uploads tab (its URLs are mounted by web/urls.py).

A placeholder until its session builds it.
"""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("sources/<slug:slug>/uploads/", views.source_tab, {"tab": "uploads"}, name="uploads"),
]
