"""The `leadgate` command (SPEC §4 "CLI", §6 "CLI --json outputs").

Every command works on a fresh data directory: it creates the database and applies pending migrations first.
Every command exits non-zero with a one-line reason on failure; `--json` prints machine-readable output.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn


class CLIError(Exception):
    """A failure the user can act on: printed as one line, exit status 1."""

    def __init__(self, message: str, code: str = "error", details: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.details = details or []


def _setup(migrate: bool = True) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadgate.settings")
    import django

    django.setup()
    if migrate:
        from leadgate.ops.services import migrate_if_needed

        migrate_if_needed()


def _json_default(value: Any) -> str:
    """Times as ISO 8601, like the API; anything else as its text."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, default=_json_default))


def _source(slug: str) -> Any:
    from leadgate.sources.models import Source

    try:
        return Source.objects.get(slug=slug)
    except Source.DoesNotExist:
        known = ", ".join(Source.objects.order_by("slug").values_list("slug", flat=True)[:10]) or "none yet"
        raise CLIError(f'no source "{slug}" (sources: {known})', code="unknown_source") from None


# --- commands -----------------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> None:
    _setup()
    from leadgate.ops.serve import serve

    serve(host=args.host, port=args.port, worker=not args.no_worker, demo=not args.no_demo)


def cmd_worker(args: argparse.Namespace) -> None:
    _setup()
    from leadgate.ops.worker import run_worker

    run_worker(interval=args.interval, batch=args.batch)


def cmd_apply(args: argparse.Namespace) -> None:
    _setup()
    from leadgate.sources.definition_file import DefinitionError, apply_definition

    try:
        with open(args.file, encoding="utf-8-sig") as fh:
            text = fh.read()
    except OSError as exc:
        raise CLIError(f"cannot read {args.file}: {exc.strerror}", code="unreadable_file") from None
    except UnicodeDecodeError:
        raise CLIError(f"{args.file} is not UTF-8 text", code="unreadable_file") from None
    try:
        result = apply_definition(text, dry_run=args.dry_run)
    except DefinitionError as exc:
        raise CLIError(
            f"{args.file}: {len(exc.errors)} error(s), nothing changed: {exc.errors[0]}",
            code="invalid_definition",
            details=exc.errors,
        ) from None
    if args.json:
        _print_json(result.as_dict())
        return
    prefix = "would be " if args.dry_run else ""
    for verb, items in (("created", result.created), ("updated", result.updated)):
        for item in items:
            print(f"{prefix}{verb}: {item}")
    print(
        f"{len(result.created)} {prefix}created, {len(result.updated)} {prefix}updated, "
        f"{len(result.unchanged)} unchanged"
    )


def cmd_export(args: argparse.Namespace) -> None:
    _setup()
    from leadgate.sources.definition_file import export_definition

    if args.source:
        for slug in args.source:
            _source(slug)
    text = export_definition(args.source or None)
    if args.output and args.output != "-":
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


def cmd_summary(args: argparse.Namespace) -> None:
    _setup()
    from leadgate.leads.services import summary

    data = summary(_source(args.source))
    if args.json:
        _print_json(data)
        return
    print(f"{data['source']}: {data['total']} leads")
    for status, n in data["status"].items():
        print(f"  {status:<12} {n:>8}")
    if data["dispositions"]:
        print("dispositions:")
        for code, n in data["dispositions"].items():
            print(f"  {code:<40} {n:>8}")


def cmd_leads(args: argparse.Namespace) -> None:
    _setup()
    from leadgate.leads.models import Lead

    source = _source(args.source)
    leads = Lead.objects.filter(source=source).order_by("submitted_at", "id")
    if args.status:
        leads = leads.filter(status=args.status)
    if args.code:
        leads = leads.filter(disposition_code=args.code.upper())
    if args.limit:
        leads = leads[: args.limit]
    fields = ("lead_id", "status", "disposition_code", "custom_reason", "values", "clean")
    for row in leads.values(*fields).iterator(chunk_size=2000):
        if args.json:
            _print_json(row)
        else:
            print(
                f"{row['lead_id']}  {row['status']:<10} {row['disposition_code']:<36} {row['custom_reason']}"
            )


def cmd_reprocess(args: argparse.Namespace) -> None:
    _setup()
    from leadgate.leads.services import Actor, reprocess_matching

    source = _source(args.source)
    outcome = reprocess_matching(source, statuses=args.status, codes=args.code, actor=Actor("cli reprocess"))
    data = {"source": source.slug, **outcome.as_dict()}
    if args.json:
        _print_json(data)
    else:
        print(f"{outcome.total} leads reprocessed, {outcome.changed} changed: {outcome.by_status}")


def cmd_upload(args: argparse.Namespace) -> None:
    _setup()
    from leadgate.files.uploads import upload_file, upload_result
    from leadgate.leads.services import Actor

    source = _source(args.source)
    if not os.path.isfile(args.file):
        raise CLIError(f"no such file: {args.file}", code="no_such_file")
    with _progress_bar("rows") as progress:
        upload = upload_file(
            source,
            args.file,
            dry_run=args.dry_run,
            update_accepted=args.update_accepted,
            actor=Actor(f"cli upload {os.path.basename(args.file)}"),
            progress=progress,
        )
    result = upload_result(upload)
    if upload.error:
        raise CLIError(upload.error["message"], code=upload.error["code"])
    if args.json:
        _print_json(result)
        return
    what = "would be" if upload.dry_run else "were"
    print(
        f"{upload.rows} rows ({upload.format} {upload.encoding}): {upload.created} {what} created,"
        f" {upload.updated} updated, {upload.unchanged} unchanged, {upload.skipped} skipped,"
        f" {upload.errors} row errors; now {upload.accepted} accepted, {upload.rejected} rejected"
    )
    for error in upload.row_errors[:20]:
        print(f"  row {error['row']}: {error['message']}")
    if len(upload.row_errors) > 20:
        print(f"  … and {len(upload.row_errors) - 20} more")
    for warning in upload.warnings:
        print(f"  warning: {warning}")


@contextlib.contextmanager
def _progress_bar(unit: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal (standard error), nothing otherwise: scripts read clean output."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(unit=f" {unit}", unit_scale=True, file=sys.stderr, leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield progress


def cmd_download(args: argparse.Namespace) -> None:
    _setup()
    import tempfile

    from leadgate.files.downloads import DownloadError, parse_time, prepare_download, prepare_template

    source = _source(args.source)
    format = args.format or _format_of(args.output)
    if args.output == "-" and format == "xlsx" and sys.stdout.isatty():
        raise CLIError("an XLSX file on a terminal is unreadable: give -o FILE, or pipe it", code="usage")
    try:
        if args.template:
            prepared = prepare_template(source, format=format)
        else:
            prepared = prepare_download(
                source,
                format=format,
                statuses=args.status,
                codes=args.code,
                since=parse_time(args.since) if args.since else None,
                until=parse_time(args.until) if args.until else None,
                time_field=args.by,
            )
    except DownloadError as exc:
        raise CLIError(exc.message, code=exc.code) from None
    to_stdout = args.output == "-"
    if to_stdout:
        rows = prepared.write_to(sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        # Written beside the target and renamed at the end: a failed download never leaves half a file.
        target = os.path.abspath(args.output)
        try:
            handle, partial = tempfile.mkstemp(
                prefix=f".{os.path.basename(target)}.", suffix=".part", dir=os.path.dirname(target)
            )
        except OSError as exc:
            raise CLIError(f"cannot write {args.output}: {exc.strerror}", code="unwritable_file") from None
        try:
            with os.fdopen(handle, "wb") as out, _progress_bar("leads") as progress:
                rows = prepared.write_to(out, progress)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(partial, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's owner-only mode
            os.replace(partial, target)
        except OSError as exc:
            os.unlink(partial)
            raise CLIError(f"cannot write {args.output}: {exc.strerror}", code="unwritable_file") from None
        except BaseException:
            os.unlink(partial)
            raise
    data = {"source": source.slug, "file": args.output, "format": format, "rows": rows}
    # With -o - the file is on standard output, so the report goes to standard error.
    report = sys.stderr if to_stdout else sys.stdout
    if args.json:
        print(json.dumps(data, ensure_ascii=False), file=report)
    else:
        what = "template" if args.template else f"{rows} leads"
        print(f"{what} written to {args.output} ({format})", file=report)


def _format_of(path: str) -> str:
    """The format a file name asks for, when --format is not given."""
    extension = os.path.splitext(path)[1].lower()
    if extension == ".xlsx":
        return "xlsx"
    if extension in (".csv", ".txt"):
        return "csv"
    raise CLIError("say which format: --format xlsx, csv or csv-semicolon", code="usage")


def cmd_demo(args: argparse.Namespace) -> None:
    _setup()
    from leadgate.demo.services import build_demo
    from leadgate.leads.services import summary

    source = build_demo(leads=args.leads)
    data = summary(source)
    if args.json:
        _print_json(data)
    else:
        rejected = data["status"]["rejected"]
        codes = sum(1 for code in data["dispositions"] if code != "ACCEPT_LEAD")
        print(
            f'Demo source "{source.name}" ({source.slug}): {data["total"]} leads, '
            f"{data['status']['accepted']} "
            f"accepted, {rejected} rejected across {codes} codes"
        )


def cmd_createuser(args: argparse.Namespace) -> None:
    _setup()
    import getpass

    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from leadgate.accounts.services import create_user

    password = os.environ.get("LEADGATE_PASSWORD", "")
    if not password:
        if not sys.stdin.isatty():
            raise CLIError(
                "set LEADGATE_PASSWORD or run on a terminal to type the password", code="no_password"
            )
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise CLIError("the passwords differ", code="password_mismatch")
    try:
        validate_password(password)
    except ValidationError as exc:
        raise CLIError(" ".join(exc.messages), code="weak_password") from None
    try:
        user = create_user(args.username, args.role, password, email=args.email or "")
    except ValueError as exc:
        raise CLIError(str(exc), code="user_exists") from None
    if args.json:
        _print_json({"username": user.username, "role": user.role})
    else:
        print(f"created {user.role} {user.username}")


def cmd_apikey(args: argparse.Namespace) -> None:
    _setup()
    from leadgate.accounts.models import ApiKey, User
    from leadgate.accounts.services import create_api_key, describe_api_key, revoke_api_key

    if args.action == "create":
        if bool(args.target) == bool(args.user):
            raise CLIError("name a source (ingestion key) or --user NAME (personal token)", code="usage")
        if args.user:
            user = User.objects.filter(username=args.user).first()
            if user is None:
                raise CLIError(f'no user "{args.user}"', code="unknown_user")
            key, secret = create_api_key(args.name or "personal token", user=user)
            data = {"user": user.username, "key": secret}
        else:
            source = _source(args.target)
            key, secret = create_api_key(args.name or "ingestion key", source=source)
            data = {"source": source.slug, "key": secret}
        if args.json:
            _print_json(data)
        else:
            print(secret)
            print(
                f"({key.kind} key {key.name!r}: shown only this once; leadgate keeps a digest)",
                file=sys.stderr,
            )
    elif args.action == "list":
        keys = ApiKey.objects.select_related("source", "user").order_by("created_at", "id")
        if args.target:
            keys = keys.filter(source=_source(args.target))
        for key in keys:
            if args.json:
                _print_json(describe_api_key(key))
            else:
                owner = key.source.slug if key.source else key.user.username if key.user else ""
                used = key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "never used"
                state = "revoked" if key.revoked_at else "active"
                print(f"{key.pk:>5}  {key.prefix}…  {key.kind:<9} {owner:<30} {key.name:<30} {used}  {state}")
    else:
        if not args.target:
            raise CLIError(
                "name the key to revoke: its id or prefix (see `leadgate apikey list`)", code="usage"
            )
        matches = (
            ApiKey.objects.filter(pk=int(args.target))
            if args.target.isdigit()
            else (ApiKey.objects.filter(prefix__startswith=args.target))
        )
        if matches.count() != 1:
            raise CLIError(f'no single key matches "{args.target}"', code="unknown_key")
        key = matches.select_related("source", "user").get()
        revoke_api_key(key)
        if args.json:
            _print_json(describe_api_key(key))
        else:
            print(f"revoked {key.prefix}… ({key.name})")


def cmd_callback(args: argparse.Namespace) -> None:
    _setup()
    from leadgate.sources.services import rotate_callback_secret

    source = _source(args.source)
    if not source.callback_url:
        raise CLIError(
            f'source "{source.slug}" has no callback URL (set callback_url: in its definition)',
            code="no_callback",
        )
    secret = rotate_callback_secret(source) if args.rotate else source.callback_secret
    if args.json:
        _print_json({"source": source.slug, "url": source.callback_url, "secret": secret})
    else:
        print(f"{source.callback_url}\n{secret}")


def _destination(key: str) -> Any:
    from leadgate.delivery.models import Destination

    try:
        return Destination.objects.get(key=key)
    except Destination.DoesNotExist:
        known = (
            ", ".join(Destination.objects.order_by("key").values_list("key", flat=True)[:10]) or "none yet"
        )
        raise CLIError(
            f'no destination "{key}" (destinations: {known})', code="unknown_destination"
        ) from None


def _describe_check(check: Any) -> dict[str, Any]:
    return {
        "ok": check.ok,
        "message": check.message,
        "warnings": check.warnings,
        "external_id": check.external_id,
        "exchanges": [
            {
                "method": e.method,
                "url": e.url,
                "request_headers": e.request_headers,
                "request_body": e.request_body,
                "status": e.status,
                "reason": e.reason,
                "response_body": e.response_body,
                "duration": round(e.duration, 3),
                "error": e.error,
            }
            for e in check.exchanges
        ],
    }


def cmd_destination(args: argparse.Namespace) -> None:
    """Destinations: list them with their health, test one, send it a test lead, retry its dead deliveries."""
    _setup()
    from django.db.models import Count

    from leadgate.delivery import services
    from leadgate.delivery.models import Delivery, Destination

    if args.action == "list":
        for destination in Destination.objects.order_by("key"):
            counts = {state.value: 0 for state in Delivery.State}
            rows = (
                Delivery.objects.filter(destination=destination).values_list("state").annotate(n=Count("id"))
            )
            counts.update(dict(rows))
            health = destination.health
            if health == "paused":
                health = (
                    f"paused until {destination.paused_until:%Y-%m-%d %H:%M} UTC: {destination.pause_reason}"
                )
            if args.json:
                _print_json(
                    {
                        "key": destination.key,
                        "kind": destination.kind,
                        "enabled": destination.enabled,
                        "health": destination.health,
                        "failures_in_a_row": destination.failures_in_a_row,
                        "paused_until": destination.paused_until,
                        "pause_reason": destination.pause_reason,
                        "deliveries": counts,
                    }
                )
            else:
                shown = " ".join(f"{state} {n}" for state, n in counts.items())
                print(f"{destination.key:<30} {destination.kind:<11} {health:<12} {shown}")
        return
    if not args.key:
        raise CLIError(
            f"name the destination to {args.action} (see `leadgate destination list`)", code="usage"
        )
    destination = _destination(args.key)
    if args.action == "retry":
        retried = services.retry_deliveries(destination, args.message_id or None)
        if args.json:
            _print_json({"destination": destination.key, "retried": retried})
        else:
            print(f"{retried} dead deliveries to {destination.key} are due again")
        return
    if args.action == "test":
        check = services.test_connection(destination)
    else:
        lead = None
        if args.lead:
            from leadgate.leads.models import Lead

            lead = Lead.objects.select_related("source").filter(lead_id=args.lead).first()
            if lead is None:
                raise CLIError(f'no lead "{args.lead}"', code="unknown_lead")
        source = _source(args.source) if args.source else None
        check = services.send_test_lead(destination, source=source, lead=lead)
    if args.json:
        _print_json({"destination": destination.key, **_describe_check(check)})
    else:
        for exchange in check.exchanges:
            print(f"> {exchange.method} {exchange.url}")
            for name, value in exchange.request_headers.items():
                print(f"> {name}: {value}")
            if exchange.request_body:
                print(f"> {exchange.request_body}")
            print(f"< {exchange.error or f'{exchange.status} {exchange.reason}'} ({exchange.duration:.2f} s)")
            if exchange.response_body:
                print(f"< {exchange.response_body}")
            print()
        for warning in check.warnings:
            print(f"warning: {warning}")
        print(("ok: " if check.ok else "failed: ") + check.message)
    if not check.ok:
        sys.exit(1)


def cmd_dispositions(args: argparse.Namespace) -> None:
    from leadgate.rules.catalogue import CATALOGUE, as_markdown

    if args.markdown:
        sys.stdout.write(as_markdown())
    elif args.json:
        _print_json(
            [
                {
                    "code": d.code,
                    "status": d.status.value,
                    "title": d.title,
                    "when": d.when,
                    "action": d.action,
                }
                for d in CATALOGUE
            ]
        )
    else:
        for d in CATALOGUE:
            print(f"{d.code:<38} {d.status.value:<9} {d.when}")


def cmd_check(args: argparse.Namespace) -> None:
    from leadgate.lib.env import ConfigError

    try:
        _setup(migrate=False)
        from leadgate.ops.services import check_configuration

        report = check_configuration()
    except ConfigError as exc:
        raise CLIError(str(exc), code="bad_configuration") from None
    if args.json:
        _print_json(report)
    else:
        for key, value in report.items():
            print(f"{key}: {value}")


# --- argument parsing ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leadgate", description="Self-hosted lead gateway.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], None], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    p = command("serve", cmd_serve, "run the web app and a background worker (embedded default)")
    p.add_argument("--host", default=os.environ.get("LEADGATE_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("LEADGATE_PORT", "8000")))
    p.add_argument("--no-worker", action="store_true", help="do not start the in-process worker")
    p.add_argument("--no-demo", action="store_true", help="do not create the demo source on first start")

    p = command("worker", cmd_worker, "run a background worker (any number of them against PostgreSQL)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between polls when idle")
    p.add_argument("--batch", action="store_true", help="run what is waiting, then exit")

    p = command(
        "apply", cmd_apply, "create or update sources, fields, lists and destinations from a YAML file"
    )
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="check and report, change nothing")

    p = command("export", cmd_export, "write the configuration in the format `apply` reads")
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")

    p = command("summary", cmd_summary, "counts of a source's leads by status and disposition code")
    p.add_argument("source")

    p = command("leads", cmd_leads, "list a source's leads")
    p.add_argument("source")
    p.add_argument("--status", choices=["processing", "accepted", "rejected", "in_review", "failed"])
    p.add_argument("--code", help="disposition code")
    p.add_argument("--limit", type=int, default=0)

    p = command("reprocess", cmd_reprocess, "decide leads again with the source's current rules")
    p.add_argument("source")
    p.add_argument("--status", action="append", help="default: rejected and failed")
    p.add_argument("--code", action="append", help="only leads with this disposition code (repeatable)")

    p = command("upload", cmd_upload, "upload a file of leads (CSV, TXT, XLSX, XLS or ODS) into a source")
    p.add_argument("source")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="show what would happen, save nothing")
    p.add_argument("--update-accepted", action="store_true", help="also decide accepted leads again")

    p = command("download", cmd_download, "download a source's leads as XLSX or CSV")
    p.add_argument("source")
    statuses = "all, accepted, rejected, processing, in_review, failed (one or more)"
    p.add_argument("--status", action="extend", nargs="+", help=statuses)
    p.add_argument("--code", action="extend", nargs="+", help="only leads with these disposition codes")
    p.add_argument("--since", help="at or after this ISO 8601 date or time (UTC unless it says)")
    p.add_argument("--until", help="… and before this one")
    p.add_argument(
        "--by", choices=["submitted", "updated"], default="submitted", help="the time --since/--until use"
    )
    p.add_argument(
        "--format", choices=["xlsx", "csv", "csv-semicolon"], help="default: from the file name's extension"
    )
    p.add_argument("-o", "--output", required=True, help="file to write; - for standard output")
    p.add_argument("--template", action="store_true", help="only the header of the source's fields")

    p = command("demo", cmd_demo, 'create or refresh the demo source "Demo Summit"')
    p.add_argument("--leads", type=int, default=5000, help="how many demo leads (default 5000)")

    p = command("createuser", cmd_createuser, "create a user (password from LEADGATE_PASSWORD or a prompt)")
    p.add_argument("username")
    p.add_argument("--role", choices=["admin", "manager", "viewer"], required=True)
    p.add_argument("--email")

    p = command("apikey", cmd_apikey, "create, list or revoke API keys (ingestion keys and personal tokens)")
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("target", nargs="?", help="create/list: the source; revoke: the key's id or prefix")
    p.add_argument("--name", help="what the key is for (shown in lists and in lead history)")
    p.add_argument("--user", help="create a personal token for this user instead")

    p = command(
        "destination", cmd_destination, "list destinations, test one, send a test lead, retry the dead"
    )
    p.add_argument("action", choices=["list", "test", "test-lead", "retry"])
    p.add_argument("key", nargs="?", help="the destination's key")
    p.add_argument("--source", help="test-lead: make up the lead from this source's fields")
    p.add_argument("--lead", help="test-lead: send this lead (by LeadID) instead of a made-up one")
    p.add_argument("--message-id", action="append", help="retry: only this dead delivery (repeatable)")
    p = command("callback", cmd_callback, "show a source's status-callback URL and signing secret")
    p.add_argument("source")
    p.add_argument("--rotate", action="store_true", help="replace the secret (the old one stops at once)")

    p = command("dispositions", cmd_dispositions, "print the disposition catalogue")
    p.add_argument("--markdown", action="store_true", help="as docs/dispositions.md")

    command("check", cmd_check, "validate the configuration from the environment")
    return parser


def _fail(args: argparse.Namespace | None, exc: CLIError) -> NoReturn:
    if args is not None and getattr(args, "json", False):
        error: dict[str, Any] = {"code": exc.code, "message": str(exc)}
        if exc.details:
            error["details"] = exc.details
        _print_json({"error": error})
    else:
        print(f"leadgate: {exc}", file=sys.stderr)
        for line in exc.details[1:]:
            print(f"  {line}", file=sys.stderr)
    sys.exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except CLIError as exc:
        _fail(args, exc)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        from django.db import OperationalError

        from leadgate.lib.env import ConfigError

        if isinstance(exc, ConfigError):
            _fail(args, CLIError(str(exc), code="bad_configuration"))
        if isinstance(exc, OperationalError):
            # The database is down or unreachable: say so in one line, not with a stack trace.
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            _fail(args, CLIError(f"cannot use the database: {first}", code="database_unavailable"))
        raise


if __name__ == "__main__":
    main()
