from django.contrib.auth import views as auth_views
from django.urls import path

from . import (
    catalogue,
    destinations,
    fields,
    leads,
    lists,
    picklists,
    postout,
    resolve,
    review,
    rules,
    settings_tab,
    signin,
    uploads,
    users,
    views,
)

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", signin.SignInView.as_view(), name="login"),  # with a limit on failed attempts
    path("signout/", auth_views.LogoutView.as_view(next_page="web:login"), name="logout"),
    path("sources/", views.sources, name="sources"),
    path("sources/<slug:slug>/", views.source_summary, name="summary"),
    path("sources/<slug:slug>/counters", views.source_counters, name="counters"),
    path("sources/<slug:slug>/download", views.download_leads, name="download"),
    path("sources/<slug:slug>/template", views.lead_template, name="template"),
]
# Each built tab has a module with its own URLs (one module per tab, so that tabs grow independently).
urlpatterns += leads.urlpatterns + resolve.urlpatterns + uploads.urlpatterns + review.urlpatterns
urlpatterns += postout.urlpatterns + destinations.urlpatterns
# Global pages: picklists and list mappers, domain and suppression lists, dispositions, users.
urlpatterns += picklists.urlpatterns + lists.urlpatterns + catalogue.urlpatterns + users.urlpatterns
urlpatterns += fields.urlpatterns + rules.urlpatterns + settings_tab.urlpatterns
BUILT = {"summary", "leads", "resolve", "uploads", "postout", "fields", "rules", "settings"}
# One URL per placeholder tab, named after it, so templates and later sessions reverse "web:fields" etc.
urlpatterns += [
    path(f"sources/<slug:slug>/{name}/", views.source_tab, {"tab": name}, name=name)
    for name, _ in views.TABS
    if name not in BUILT
]
