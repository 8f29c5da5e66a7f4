"""WSGI entry point for `leadgate serve` (gunicorn) and any other WSGI server."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadgate.settings")
application = get_wsgi_application()

# What is loaded now (Django, the apps, the libraries) lives as long as the process: moved out of the
# collector's reach, so its full collections scan only what requests allocate (a 1,000-lead post
# allocates enough to trigger them).
gc.freeze()
