"""Input checks: every bad row gets a reason and every good row goes on; bad parameters get a
message a user can act on.

* ``validate_bars``: price bars, vectorised over the batch; a row is rejected for the first rule
  it breaks, and duplicates of a (symbol, interval, ts) key keep their first good occurrence.
* ``split_rows``: row-at-a-time rules for small batches (fundamentals, events).
* ``parse_symbols``, ``parse_date``, ``parse_dates``: the parameters every pipeline, DAG and
  CLI command takes, parsed one way everywhere (a ``ValueError`` says what was wrong).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

BAR_COLUMNS = ["symbol", "interval", "ts", "open", "high", "low", "close", "volume"]
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9^][A-Z0-9.\-=^]{0,19}$")
INTERVALS = {"1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "1d", "5d", "1wk", "1mo", "3mo"}


@dataclass(frozen=True)
class Rejects:
    """Rejected rows: the raw payloads and why each was refused."""

    payloads: list[dict]
    reasons: list[str]

    def __len__(self) -> int:
        return len(self.reasons)


MAX_PRICE = 1e9  # no traded instrument quotes above a billion per unit: such a value is a feed error
MAX_VOLUME = 1e15
SESSION_INTERVALS = {"1d", "5d", "1wk", "1mo", "3mo"}  # bars of whole sessions, stamped 00:00 UTC


def _finite_positive_or_missing(col: pd.Series) -> pd.Series:
    values = pd.to_numeric(col, errors="coerce")
    return col.isna() | (np.isfinite(values) & (values > 0) & (values <= MAX_PRICE))


def _is_boolean(value) -> bool:
    return isinstance(value, bool | np.bool_) or (isinstance(value, str) and value.strip().lower() in ("true", "false"))


def _booleans(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Rows where one of ``columns`` holds a boolean (which pandas would silently read as 0 or 1)."""
    found = pd.Series(False, index=frame.index)
    for c in columns:
        col = frame[c]
        if pd.api.types.is_bool_dtype(col.dtype):
            found |= col.notna()
        elif col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            found |= col.map(_is_boolean).astype(bool)
    return found


def _naive(col: pd.Series) -> pd.Series:
    """Rows whose timestamp carries no time zone: naive times are refused, never assumed to be UTC."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return pd.Series(False, index=col.index)
    if pd.api.types.is_datetime64_dtype(col.dtype):
        return col.notna()

    def naive(value) -> bool:
        try:
            return value is not None and pd.notna(value) and pd.Timestamp(value).tzinfo is None
        except (TypeError, ValueError):
            return False  # unparseable: the timestamp rule says so

    return col.map(naive).astype(bool)


def validate_bars(raw: pd.DataFrame, *, now: pd.Timestamp | None = None) -> tuple[pd.DataFrame, Rejects]:
    """Split a raw bar batch into accepted bars (typed, UTC) and rejects with reasons."""
    frame = raw.reindex(columns=BAR_COLUMNS).reset_index(drop=True)
    now = now or pd.Timestamp.now(tz="UTC")
    symbol = frame["symbol"].astype("string")
    naive = _naive(frame["ts"])
    ts = pd.to_datetime(frame["ts"], errors="coerce", utc=True, format="mixed")
    prices = {c: pd.to_numeric(frame[c], errors="coerce") for c in ("open", "high", "low", "close")}
    volume = pd.to_numeric(frame["volume"], errors="coerce")
    close = prices["close"]
    lo = prices["low"].fillna(close)
    hi = prices["high"].fillna(close)
    body_lo = np.fmin(prices["open"], close)
    body_hi = np.fmax(prices["open"], close)

    rules: list[tuple[str, pd.Series]] = [
        ("malformed symbol", ~symbol.fillna("").str.fullmatch(SYMBOL_PATTERN.pattern).fillna(False).astype(bool)),
        ("unknown interval", ~frame["interval"].isin(INTERVALS)),
        ("missing or unparseable timestamp", ts.isna()),
        ("timestamp without a time zone (naive times are not assumed to be UTC)", naive),
        ("session bar not stamped 00:00 UTC", frame["interval"].isin(SESSION_INTERVALS) & (ts != ts.dt.normalize())),
        ("timestamp in the future", ts > now + pd.Timedelta(days=1)),
        (
            "a price or the volume is a boolean, not a number",
            _booleans(frame, ["open", "high", "low", "close", "volume"]),
        ),
        (
            "close is missing or not a finite number",
            ~pd.Series(np.isfinite(close.to_numpy(dtype=float)), index=frame.index),
        ),
        (
            "non-positive or non-finite price",
            ~(
                _finite_positive_or_missing(frame["open"])
                & _finite_positive_or_missing(frame["high"])
                & _finite_positive_or_missing(frame["low"])
                & (close > 0)
            ),
        ),
        (f"price above {MAX_PRICE:,.0f}, not a real quote", close > MAX_PRICE),
        (
            "high/low inconsistent with open/close",
            (hi < lo) | (hi < body_hi.fillna(close)) | (lo > body_lo.fillna(close)),
        ),
        (
            "negative, non-finite or impossible volume",
            frame["volume"].notna() & ~(np.isfinite(volume) & (volume >= 0) & (volume <= MAX_VOLUME)),
        ),
    ]
    reason = pd.Series(pd.NA, index=frame.index, dtype="string")
    for text, broken in rules:
        reason = reason.mask(reason.isna() & broken.fillna(True).astype(bool), text)

    # a key's first good copy lands; a bad first copy does not hold back a good later one
    good = reason.isna()
    key = pd.DataFrame({"symbol": symbol, "interval": frame["interval"], "ts": ts})[good]
    dup = pd.Series(False, index=frame.index)
    dup[good] = key.duplicated(keep="first")
    reason = reason.mask(dup, "duplicate (symbol, interval, ts) in batch")

    bad = reason.notna().to_numpy()
    accepted = pd.DataFrame(
        {
            "symbol": symbol[~bad].astype(str),
            "interval": frame.loc[~bad, "interval"].astype(str),
            "ts": ts[~bad],
            **{c: prices[c][~bad].astype(float) for c in ("open", "high", "low", "close")},
            "volume": volume[~bad].round().astype("Int64"),
        }
    ).reset_index(drop=True)
    rejected = frame[bad]
    rejects = Rejects(
        payloads=[_payload(row) for row in rejected.to_dict(orient="records")],
        reasons=reason[bad].astype(str).tolist(),
    )
    return accepted, rejects


def _payload(row: dict) -> dict:
    """A JSON-safe copy of a raw row: NaN and infinities become strings, timestamps ISO text."""
    out = {}
    for key, value in row.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            out[key] = str(value)
        elif isinstance(value, pd.Timestamp):
            out[key] = value.isoformat()
        elif value is None or value is pd.NaT or value is pd.NA:
            out[key] = None
        elif isinstance(value, dict):
            out[key] = _payload(value)
        else:
            out[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
    return out


def split_rows(rows: list[dict], rules: list[tuple[str, Callable[[dict], bool]]]) -> tuple[list[dict], Rejects]:
    """Row-at-a-time validation for small batches (fundamentals, events).

    Each rule is (reason, is_valid); a row is rejected for the first rule it breaks, and a rule
    that raises counts as broken, so odd input (wrong types, missing keys) is rejected, not fatal.
    """
    good: list[dict] = []
    payloads: list[dict] = []
    reasons: list[str] = []
    for row in rows:
        broken = None
        for reason, is_valid in rules:
            try:
                ok = bool(is_valid(row))
            except Exception:
                ok = False
            if not ok:
                broken = reason
                break
        if broken is None:
            good.append(row)
        else:
            payloads.append(_payload(row))
            reasons.append(broken)
    return good, Rejects(payloads, reasons)


def is_symbol(value) -> bool:
    return isinstance(value, str) and SYMBOL_PATTERN.fullmatch(value) is not None


def is_text(value, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= limit


def parse_symbols(value) -> list[str] | None:
    """Tickers from a list or a comma/space-separated string, upper-cased, sorted, unique; None when empty."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, (list, tuple)) or not all(isinstance(s, str) for s in value):
        raise ValueError(f"symbols must be a list of tickers, got {value!r}")
    symbols = sorted({s.strip().upper() for s in value if s.strip()})
    bad = [s for s in symbols if not SYMBOL_PATTERN.fullmatch(s)]
    if bad:
        raise ValueError(f"malformed symbols {[b[:40] for b in bad]}: use tickers such as AAPL, BRK-B or ^GSPC")
    return symbols or None


FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2199, 12, 31)  # what any market's history and its windows fit in


def parse_date(value, name: str) -> date | None:
    """A calendar date from a ``date`` or an exact ``YYYY-MM-DD`` string, from 1900 to 2199; None when empty.

    The one date parser of every entry point (the API, the CLI, the DAGs' Params): a timestamp, an epoch
    number or a date outside that range (``0001-01-01``, whose windows would run off the calendar) is refused.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        raise ValueError(f"{name} must be a date like 2022-01-31, not a timestamp ({value.isoformat()})")
    day = value if isinstance(value, date) else None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            pass
    if day is None:
        raise ValueError(f"{name} must be a date like 2022-01-31, got {str(value)[:40]!r}")
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ValueError(f"{name} {day} is outside the dates Axiom works with ({FIRST_DATE} to {LAST_DATE})")
    return day


def parse_dates(start, end, names: tuple[str, str] = ("start", "end")) -> tuple[date | None, date | None]:
    """An inclusive date range; either end may be open, but start may not come after end."""
    first, last = parse_date(start, names[0]), parse_date(end, names[1])
    if first and last and first > last:
        raise ValueError(f"{names[0]} {first} is after {names[1]} {last}")
    return first, last
