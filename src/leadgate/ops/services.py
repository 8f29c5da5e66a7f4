"""Operator chores: migrations on first use, the first admin, configuration checks, health."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from leadgate.ops.models import WorkerHeartbeat

# A worker stamps its heartbeat every few seconds; one not seen for this long is taken as gone.
HEARTBEAT_INTERVAL = 5
HEARTBEAT_STALE_AFTER = dt.timedelta(seconds=30)


def migrate_if_needed() -> None:
    """Apply pending migrations, so every command works on a fresh data directory."""
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)


def ensure_admin() -> tuple[str, str] | None:
    """Create the first admin when there is no user at all; returns (username, password) only then."""
    from leadgate.accounts.models import Role, User
    from leadgate.accounts.services import create_user, generate_password

    if User.objects.exists():
        return None
    password = generate_password()
    create_user("admin", Role.ADMIN, password)
    return "admin", password


def live_workers(now: dt.datetime | None = None) -> int:
    since = (now or timezone.now()) - HEARTBEAT_STALE_AFTER
    return WorkerHeartbeat.objects.filter(seen_at__gte=since).count()


def health() -> tuple[bool, dict[str, str]]:
    """Is the database reachable and at least one worker alive?"""
    report: dict[str, str] = {}
    try:
        workers = live_workers()
        report["database"] = "ok"
    except Exception as exc:  # any database failure means "not ready", never a 500
        report["database"] = f"error: {type(exc).__name__}"
        return False, report
    report["workers"] = str(workers)
    return workers > 0, report


def check_configuration() -> dict[str, Any]:
    """What `leadgate check` prints: the effective configuration and whether the database answers."""
    db = settings.DATABASES["default"]
    report: dict[str, Any] = {
        "data_dir": str(settings.DATA_DIR),
        "database": f"{db['ENGINE'].rsplit('.', 1)[-1]}:{db.get('HOST') or ''}{db['NAME']}",
        "allowed_hosts": ",".join(settings.ALLOWED_HOSTS),
        "allow_private_destinations": settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS,
        "web_workers": settings.LEADGATE_WEB_WORKERS,
        "web_threads": settings.LEADGATE_WEB_THREADS,
    }
    try:
        connections[DEFAULT_DB_ALIAS].ensure_connection()
        report["database_status"] = "ok"
    except Exception as exc:
        from leadgate.lib.env import ConfigError

        raise ConfigError(f"cannot connect to the database: {exc}".splitlines()[0]) from None
    return report
