"""Neo4j: the relationship graph. Writes are UNWIND batches of MERGEs on unique keys."""

from __future__ import annotations

from collections.abc import Iterable

MERGE_STOCKS = """
UNWIND $rows AS row
MERGE (s:Stock {symbol: row.symbol})
SET s.last_price = row.close, s.last_updated = row.ts
"""


def _batches(rows: list[dict], size: int) -> Iterable[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def merge_stocks(driver, bars: list[dict], *, batch_size: int = 1000) -> int:
    """MERGE a Stock per symbol with its latest close and bar time; return how many rows were sent."""
    rows = [{"symbol": b["symbol"], "close": b["close"], "ts": b["ts"]} for b in bars]
    with driver.session() as session:
        for batch in _batches(rows, batch_size):
            session.execute_write(lambda tx, b=batch: tx.run(MERGE_STOCKS, rows=b).consume())
    return len(rows)
