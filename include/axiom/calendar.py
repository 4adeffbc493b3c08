"""Calendar arithmetic shared by every pipeline and reader: look-back spans and epoch days.

Sessions are weekdays less exchange holidays, so ``n`` sessions span at most about ``1.5 n``
calendar days; ``history_start`` reaches back ``2 n + 14`` days, which covers ``n`` sessions
with room for any run of holidays. ``epoch_day`` is the integer date every Chroma collection
carries (field ``epoch_day``), so one range filter works for events, correlations and patterns.
"""

from __future__ import annotations

from datetime import date, timedelta

EPOCH = date(1970, 1, 1)
SCHEDULED_LOOKBACK = timedelta(days=7)  # what a scheduled run without dates covers: the week to its interval's end


def epoch_day(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


def history_start(first: date | None, sessions: int) -> date | None:
    """The first calendar day to read so that ``sessions`` sessions precede ``first`` (None: all history)."""
    return None if first is None else first - timedelta(days=2 * sessions + 14)
