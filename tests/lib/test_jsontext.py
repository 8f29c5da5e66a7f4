"""JSON text as leadgate stores it: what orjson writes reads back as json.dumps would have written it."""

from __future__ import annotations

import datetime as dt
import decimal
import json

from django.core.serializers.json import DjangoJSONEncoder

from leadgate.lib import jsontext


def test_orjson_text_reads_back_as_djangos():
    value = {
        "email": "ünï@exämple.com",
        "notes": 'quote " back \\ line \n 日本語 🙂',
        "n": None,
        "list": [1, 2.5, True],
        "day": dt.date(2026, 3, 14),
        "at": dt.datetime(2026, 3, 14, 9, 30, 1, 123456, tzinfo=dt.UTC),
        "amount": decimal.Decimal("1.50"),
    }
    text = jsontext.dumps(value)
    assert json.loads(text) == json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    assert "ünï" in text  # characters as they are, not escaped


def test_what_orjson_refuses_is_written_losslessly():
    value = {"lone": "x\ud800y", "big": 2**70}
    text = jsontext.dumps(value)
    assert json.loads(text) == value
    assert text.encode("utf-8")  # valid UTF-8, storable
    assert jsontext.dumps_bytes(value).decode() == text
