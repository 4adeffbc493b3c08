"""Stored names that a version renamed are migrated: the ledger's tables by its SQL files, the names
Redis and Neo4j hold once per ledger, recorded beside them in ``schema_migration``."""

from __future__ import annotations

from datetime import date

import pytest

from axiom import connections, schema

RENAMES = list(schema.PROJECTION_RENAMES)


def _forget_renames(pg) -> None:
    pg.execute("DELETE FROM schema_migration WHERE version = ANY(%s)", (RENAMES,))


def _members(redis_client, key: str) -> dict[str, float]:
    return {m.decode(): s for m, s in redis_client.zrange(key, 0, -1, withscores=True)}


def test_older_names_in_redis_and_neo4j_are_renamed_once(clean_stores, pg, redis_client, neo4j_driver):
    for key, members in {
        "events:AAPL:recent": {"1": 100.0},  # the first family (macro: MACRO)
        "events:MACRO:recent": {"2": 200.0},
        "event:AAPL:recent": {"3": 300.0},  # the second (macro: macro)
        "event:macro:recent": {"4": 400.0},
        "market_event:AAPL:recent": {"5": 500.0},  # already under the name of now
    }.items():
        redis_client.zadd(key, members)
    with neo4j_driver.session() as s:
        s.run(
            "CREATE (c:Stock {symbol: 'AAPL', last_price: 129.9, last_updated: datetime('2022-12-28T00:00:00Z'),"
            " last_session: date('2022-12-28'), adjusted: true})"
            " CREATE (e:MarketEvent {event_id: 1, type: 'fed_decision'})"
            " CREATE (c)-[:AFFECTED_BY {impact_score: 0.4}]->(e)"
        ).consume()
    _forget_renames(pg)

    assert schema.migrate_projections(pg, redis_client=redis_client, driver=neo4j_driver) == RENAMES

    assert sorted(k.decode() for k in redis_client.scan_iter(match="*:recent")) == [
        "market_event:AAPL:recent",
        "market_event:macro:recent",
    ]
    assert _members(redis_client, "market_event:AAPL:recent") == {"1": 100.0, "3": 300.0, "5": 500.0}
    assert _members(redis_client, "market_event:macro:recent") == {"2": 200.0, "4": 400.0}
    with neo4j_driver.session() as s:
        stock = dict(s.run("MATCH (c:Stock {symbol: 'AAPL'}) RETURN c").single()["c"])
        event = dict(s.run("MATCH (e:MarketEvent {event_id: 1}) RETURN e").single()["e"])
        impact = s.run("MATCH ()-[r:AFFECTED_BY]->() RETURN properties(r) AS p").single()["p"]
    assert set(stock) == {"symbol", "close", "ts", "session", "adjusted"} and stock["close"] == pytest.approx(129.9)
    assert stock["session"].to_native() == date(2022, 12, 28)
    assert event == {"event_id": 1, "event_type": "fed_decision"} and impact == {"impact": 0.4}
    recorded = pg.execute("SELECT version FROM schema_migration WHERE version = ANY(%s)", (RENAMES,)).fetchall()
    assert sorted(r[0] for r in recorded) == sorted(RENAMES)

    # recorded: the next run reads the ledger and scans nothing
    redis_client.zadd("event:KO:recent", {"6": 600.0})
    assert schema.migrate_projections(pg, redis_client=redis_client, driver=neo4j_driver) == []
    assert redis_client.exists("event:KO:recent")


def test_the_ledger_migration_renames_tables_and_keeps_their_rows(pg, tmp_path, monkeypatch):
    """Migrations up to 009 in a scratch schema, rows in the tables under their old names, then the rest."""
    before = tmp_path / "sql"
    before.mkdir()
    for path in sorted(schema.SQL_DIR.glob("*.sql")):
        if path.stem < "010":
            (before / path.name).write_text(path.read_text())
    with connections.postgres() as conn:
        conn.execute("CREATE SCHEMA migration_010")
        try:
            conn.execute("SET search_path TO migration_010")
            with monkeypatch.context() as mp:
                mp.setattr(schema, "SQL_DIR", before)
                schema.migrate_postgres(conn)
            conn.execute(
                "INSERT INTO trading_signal (a, b, session, kind, z, coefficient, beta, moved, return_a, return_b,"
                " close_a, close_b, trade) VALUES ('KO', 'PEP', '2022-06-15', 'divergence', 2.7, 0.85, 0.9, 'KO',"
                " 0.03, 0.0, 60.0, 170.0, 'short KO, long PEP')"
            )
            event_id = conn.execute(
                "INSERT INTO market_event (source, source_id, occurred_at, title, run_id)"
                " VALUES ('fomc', '2022-06-15', '2022-06-15', 'hike', 1) RETURNING event_id"
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO event_sector_sensitivity (event_id, sector, sensitivity, observations)"
                " VALUES (%s, 'Energy', 0.5, 3)",
                (event_id,),
            )

            assert "010_one_name_per_concept" in schema.migrate_postgres(conn)

            def table(name: str) -> str | None:
                return conn.execute("SELECT to_regclass(%s)::text", (f"migration_010.{name}",)).fetchone()[0]

            assert table("trading_signal") is None and table("event_sector_sensitivity") is None
            assert conn.execute("SELECT a, b, trade FROM signal").fetchall() == [("KO", "PEP", "short KO, long PEP")]
            assert conn.execute(
                "SELECT event_id, sector, sensitivity FROM market_event_sector_sensitivity"
            ).fetchall() == [(event_id, "Energy", 0.5)]
        finally:
            conn.execute("DROP SCHEMA migration_010 CASCADE")
