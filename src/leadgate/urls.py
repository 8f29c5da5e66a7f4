from functools import partial

from django.contrib import admin
from django.urls import include, path
from django.views.defaults import permission_denied

from leadgate.api.main import api
from leadgate.ops.views import healthz

admin.site.site_header = "leadgate"
admin.site.site_title = "leadgate"
admin.site.index_title = "Configuration"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("f/", include("leadgate.capture.urls")),
    path("", include("leadgate.web.urls")),
]

# A refused page or action (403) in plain words with a way back, in the UI's own layout.
handler403 = partial(permission_denied, template_name="web/403.html")
