"""When to try again: exponential backoff with jitter, and no sooner than the receiver asked.

Shared by status callbacks and deliveries. After the n-th failed attempt: 45 s × 2^(n-1) (the base is
LEADGATE_RETRY_BASE_SECONDS), at most 12 h,
±20 % jitter (so a thousand leads that failed together do not all come back in the same second). Twelve
attempts span about a day (45 s, 1.5 min, 3 min … 6.4 h, 12 h).
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings

RETRY_BASE = dt.timedelta(seconds=45)  # the default of LEADGATE_RETRY_BASE_SECONDS
RETRY_CAP = dt.timedelta(hours=12)
RETRY_AFTER_CAP = dt.timedelta(hours=24)


def retry_delay(attempts: int, retry_after: dt.timedelta | None = None) -> dt.timedelta:
    """The wait after ``attempts`` failed attempts: backoff with jitter, no sooner than Retry-After asks."""
    base = dt.timedelta(seconds=settings.LEADGATE_RETRY_BASE_SECONDS)
    backoff: dt.timedelta = min(base * 2 ** min(attempts - 1, 20), RETRY_CAP) * random.uniform(0.8, 1.2)
    if retry_after is None:
        return backoff
    wait: dt.timedelta = max(backoff, min(retry_after, RETRY_AFTER_CAP))
    return wait
