"""What every ledger module shares: real transactions, COPY, and row counts."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

# every table Axiom writes, in an order that TRUNCATE and counts can use
TABLES = (
    "price_bar",
    "company_fundamentals",
    "company_competitor",
    "market_event",
    "market_event_sector_sensitivity",
    "correlation",
    "sector_momentum",
    "analyst_judgement",
    "index_state",
    "insight",
    "signal",
    "signal_delivery",
    "signal_evaluation",
    "signal_outcome",
    "rejected_row",
    "replay",
    "session_hop",
)


def transaction(conn):
    """One real transaction (BEGIN ... COMMIT) on an autocommit connection.

    On a non-autocommit connection psycopg would silently nest a savepoint inside an implicit
    transaction that nobody commits, so such a connection is refused.
    """
    if not conn.autocommit:
        raise RuntimeError("the ledger needs an autocommit psycopg connection (conn.autocommit = True)")
    return conn.transaction()


def truncate_all(conn) -> None:
    """Empty every table Axiom writes and the run log (tests and benchmarks, on their own database)."""
    conn.execute(f"TRUNCATE {', '.join(TABLES)}, ingestion_run")


def database_name(conn) -> str:
    """The PostgreSQL database this connection is on."""
    return conn.execute("SELECT current_database()").fetchone()[0]


def pin_utc(conn) -> None:
    """Session dates and casts in UTC, whatever the server's default zone (a connection not opened by
    ``axiom.connections``, which pins it in the connection options)."""
    conn.execute("SET TIME ZONE 'UTC'")


def copy_csv(frame: pd.DataFrame, columns: tuple[str, ...]) -> bytes:
    """The frame as CSV for ``COPY ... (FORMAT csv)``: empty unquoted fields are NULL, text is quoted.

    Arrow's C++ writer formats the rows (floats in shortest round-trip form, timestamps in UTC);
    pandas' ``to_csv`` would take longer than the COPY itself.
    """
    table = pa.Table.from_pandas(frame.loc[:, list(columns)], preserve_index=False)
    buf = io.BytesIO()
    pa_csv.write_csv(table, buf, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
    return buf.getvalue()


def copy_rows(cur, table: str, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """COPY ``frame`` into ``table`` (a trusted identifier from this package, never user input)."""
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(copy_csv(frame, columns))


def row_counts(conn) -> dict[str, int]:
    """Rows per ledger table."""
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}
