from django.urls import path

from . import views

app_name = "capture"

urlpatterns = [
    path("<slug:slug>", views.capture_form, name="form"),
    path("<slug:slug>/thanks", views.thanks, name="thanks"),
    path("<slug:slug>/closed", views.closed, name="closed"),
]
