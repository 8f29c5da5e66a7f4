"""Exit 0 when the PostgreSQL server of the given URL answers (the database itself need not exist)."""

import sys

import psycopg

url = sys.argv[1]
try:
    # Connect to the server's maintenance database: Django creates the test database itself.
    conninfo = psycopg.conninfo.conninfo_to_dict(url)
    conninfo["dbname"] = "postgres"
    psycopg.connect(**conninfo, connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL not available: {exc}".splitlines()[0], file=sys.stderr)
    sys.exit(1)
