from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from leadgate.api.main import api
from leadgate.ops.views import healthz

admin.site.site_header = "leadgate"
admin.site.site_title = "leadgate"
admin.site.index_title = "Configuration"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("f/", include("leadgate.capture.urls")),
]
