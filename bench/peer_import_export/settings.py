"""Django settings of the peer: one app, one SQLite database, nothing of leadgate's.

The database file is ``$PEER_IMPORT_EXPORT_DB`` (the runner sets it from ``--db``). SQLite gets the same
journal and sync pragmas as leadgate's own SQLite configuration (WAL, synchronous=NORMAL), so the storage
settings are not what the comparison measures.
"""

from __future__ import annotations

import os

SECRET_KEY = "peer-import-export-benchmark"  # a throwaway project, never served
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "import_export",
    "bench.peer_import_export.leads",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("PEER_IMPORT_EXPORT_DB", ":memory:"),
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The date shapes leadgate reads: ISO with dashes or slashes, and the dotted European form.
# (leadgate also reads MM/DD/YYYY and DD/MM/YYYY when only one reading is possible.)
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y"]

IMPORT_EXPORT_USE_TRANSACTIONS = True
