"""Neo4j: the relationship graph. Writes are UNWIND batches of MERGEs on unique keys."""

from __future__ import annotations

from collections.abc import Iterable

from neo4j import READ_ACCESS

MERGE_STOCKS = """
UNWIND $rows AS row
MERGE (s:Stock {symbol: row.symbol})
SET s.close = row.close, s.ts = row.ts, s.session = row.session, s.adjusted = row.adjusted
"""


def database_name(driver) -> str:
    """The name of the Neo4j database the driver's sessions use by default."""
    with driver.session() as session:
        return session.run("CALL db.info() YIELD name RETURN name").single()["name"]


# properties older versions stored under other names, each rewritten to its name now; ``axiom.schema``
# runs them once per ledger (a graph drawn since holds none of the old names)
RENAMED_PROPERTIES = (
    "MATCH (e:MarketEvent) WHERE e.type IS NOT NULL SET e.event_type = e.type REMOVE e.type RETURN count(e)",
    "MATCH (s:Stock) WHERE s.last_price IS NOT NULL"
    " SET s.close = s.last_price, s.ts = s.last_updated, s.session = s.last_session"
    " REMOVE s.last_price, s.last_updated, s.last_session RETURN count(s)",
    "MATCH ()-[r:AFFECTED_BY]->() WHERE r.impact_score IS NOT NULL"
    " SET r.impact = r.impact_score REMOVE r.impact_score RETURN count(r)",
)


def rename_properties(driver) -> int:
    """Rewrite the properties of older versions to their names now; return how many nodes and edges changed."""
    with driver.session() as session:
        return sum(session.execute_write(lambda tx, q=q: tx.run(q).single()[0]) for q in RENAMED_PROPERTIES)


def change_password(driver, old: str, new: str) -> None:
    """Change the password of the driver's user (a new server's first login must, before anything else)."""
    with driver.session(database="system") as session:
        session.run("ALTER CURRENT USER SET PASSWORD FROM $old TO $new", old=old, new=new).consume()


def _batches(rows: list[dict], size: int) -> Iterable[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def stock_rows(bars: list[dict]) -> list[dict]:
    """Stock node properties from each symbol's newest bar (what ``merge_stocks`` writes)."""
    return [
        {
            "symbol": b["symbol"],
            "close": b["close"],
            "ts": b["ts"],
            "session": b["ts"].date(),
            "adjusted": b["adjusted"],
        }
        for b in bars
    ]


def merge_stocks(driver, bars: list[dict], *, batch_size: int = 1000) -> int:
    """MERGE a Stock per symbol with its latest close, bar time, session date and adjusted flag; return the count."""
    rows = stock_rows(bars)
    with driver.session() as session:
        for batch in _batches(rows, batch_size):
            session.execute_write(lambda tx, b=batch: tx.run(MERGE_STOCKS, rows=b).consume())
    return len(rows)


MERGE_COMPANIES = """
UNWIND $rows AS row
MERGE (c:Stock {symbol: row.symbol})
SET c:Company, c.name = row.name, c.industry = row.industry, c.market_cap_usd = row.market_cap_usd,
    c.debt_to_equity = row.debt_to_equity, c.as_of = row.as_of
MERGE (s:Sector {name: row.sector})
MERGE (c)-[:BELONGS_TO]->(s)
WITH c, s
OPTIONAL MATCH (c)-[old:BELONGS_TO]->(other:Sector) WHERE other <> s
DELETE old
"""

DROP_STALE_COMPETITION = """
MATCH (a:Company)-[r:COMPETES_WITH]-(b:Company)
WHERE a.symbol IN $symbols AND NOT [a.symbol, b.symbol] IN $keep AND NOT [b.symbol, a.symbol] IN $keep
DELETE r
"""

MERGE_COMPETITION = """
UNWIND $rows AS row
MATCH (a:Company {symbol: row.a})
MATCH (b:Company {symbol: row.b})
MERGE (a)-[r:COMPETES_WITH]->(b)
SET r.intensity = row.intensity, r.analyst = row.analyst, r.as_of = row.as_of
"""


def merge_companies(driver, companies: list[dict], pairs: list[dict], *, batch_size: int = 1000) -> int:
    """Company nodes on their Stock node, one BELONGS_TO per company, and the COMPETES_WITH edges.

    ``pairs`` hold each competing pair once (a < b); edges of these companies to anyone else
    are removed, so the graph says what the latest judgement says.
    """
    symbols = [c["symbol"] for c in companies]
    keep = [[p["a"], p["b"]] for p in pairs]

    def replace_competition(tx) -> None:  # stale edges go and new ones come in one transaction
        tx.run(DROP_STALE_COMPETITION, symbols=symbols, keep=keep).consume()
        for batch in _batches(pairs, batch_size):
            tx.run(MERGE_COMPETITION, rows=batch).consume()

    with driver.session() as session:
        for batch in _batches(companies, batch_size):
            session.execute_write(lambda tx, b=batch: tx.run(MERGE_COMPANIES, rows=b).consume())
        session.execute_write(replace_competition)
    return len(companies)


MERGE_EVENTS = """
UNWIND $rows AS row
MERGE (e:MarketEvent {event_id: row.event_id})
SET e.event_type = row.event_type, e.date = row.date, e.title = row.title, e.source = row.source,
    e.impact = row.impact, e.sentiment = row.sentiment
WITH e, row WHERE row.symbol IS NOT NULL
MERGE (c:Stock {symbol: row.symbol})
MERGE (c)-[r:AFFECTED_BY]->(e)
SET r.impact = row.impact
"""

MERGE_SECTOR_EXPOSURE = """
UNWIND $rows AS row
MATCH (e:MarketEvent {event_id: row.event_id})
MERGE (s:Sector {name: row.sector})
MERGE (e)-[r:AFFECTS]->(s)
SET r.sensitivity = row.sensitivity, r.observations = row.observations
"""


def merge_events(driver, events: list[dict], exposures: list[dict], *, batch_size: int = 1000) -> int:
    """MarketEvent nodes, (Stock/Company)-[:AFFECTED_BY]->(event), and (macro event)-[:AFFECTS]->(Sector)."""
    with driver.session() as session:
        for batch in _batches(events, batch_size):
            session.execute_write(lambda tx, b=batch: tx.run(MERGE_EVENTS, rows=b).consume())
        for batch in _batches(exposures, batch_size):
            session.execute_write(lambda tx, b=batch: tx.run(MERGE_SECTOR_EXPOSURE, rows=b).consume())
    return len(events)


MERGE_CORRELATIONS = """
UNWIND $rows AS row
MERGE (a:Stock {symbol: row.a})
MERGE (b:Stock {symbol: row.b})
MERGE (a)-[r:CORRELATED_WITH {window: row.window}]->(b)
SET r.coefficient = row.coefficient, r.as_of = row.as_of, r.explanation = row.explanation,
    r.observations = row.observations, r.run_id = $run_id
"""

# after the merge, an edge among these symbols not drawn by this run is no longer strong
DROP_STALE_CORRELATIONS = """
MATCH (a:Stock)-[r:CORRELATED_WITH {window: $window}]->(b:Stock)
WHERE a.symbol IN $symbols AND b.symbol IN $symbols AND (r.run_id IS NULL OR r.run_id <> $run_id)
DELETE r
"""


LATEST_CORRELATION_AS_OF = """
MATCH ()-[r:CORRELATED_WITH {window: $window}]->() RETURN max(r.as_of) AS as_of
"""


def latest_correlation_as_of(driver, window: int):
    """The as-of date the ``CORRELATED_WITH`` edges of ``window`` stand on (None when there are none)."""
    [row] = read(driver, LATEST_CORRELATION_AS_OF, window=window)
    return None if row["as_of"] is None else row["as_of"].to_native()


def merge_correlations(
    driver, rows: list[dict], *, symbols: list[str], window: int, run_id: int, batch_size: int = 1000
) -> int:
    """CORRELATED_WITH edges (one per pair and window, a < b) for the latest as-of, each stamped with the run
    that drew it; the edges among ``symbols`` that this run did not draw go, in the same transaction."""

    def replace_correlations(tx) -> None:
        for batch in _batches(rows, batch_size):
            tx.run(MERGE_CORRELATIONS, rows=batch, run_id=run_id).consume()
        tx.run(DROP_STALE_CORRELATIONS, symbols=symbols, window=window, run_id=run_id).consume()

    with driver.session() as session:
        session.execute_write(replace_correlations)
    return len(rows)


def counts(driver) -> dict:
    """Nodes per label and relationships per type."""
    with driver.session() as session:
        labels = session.run(
            "CALL db.labels() YIELD label CALL (label) { MATCH (n) WHERE label IN labels(n) RETURN count(n) AS n }"
            " RETURN label, n ORDER BY label"
        ).data()
        rels = session.run(
            "CALL db.relationshipTypes() YIELD relationshipType AS type"
            " CALL (type) { MATCH ()-[r]->() WHERE type(r) = type RETURN count(r) AS n } RETURN type, n ORDER BY type"
        ).data()
    return {"nodes": {r["label"]: r["n"] for r in labels}, "relationships": {r["type"]: r["n"] for r in rels}}


# --- reads for the insights: each takes the as-of date where the graph holds dated facts

COMPETITORS = """
MATCH (c:Company {symbol: $symbol})-[r:COMPETES_WITH]-(p:Company)
RETURN p.symbol AS symbol, p.name AS name, r.intensity AS intensity, p.market_cap_usd AS market_cap_usd,
       toString(p.as_of) AS snapshot
ORDER BY r.intensity DESC, symbol
"""

SECTOR_OF = """
MATCH (c:Company {symbol: $symbol})-[:BELONGS_TO]->(s:Sector)
OPTIONAL MATCH (s)<-[:BELONGS_TO]-(p:Company) WHERE p <> c
RETURN s.name AS sector, collect(p.symbol) AS peers
"""

EVENTS_BETWEEN = """
MATCH (c:Stock {symbol: $symbol})-[r:AFFECTED_BY]->(e:MarketEvent)
WHERE e.date > date($since) AND e.date <= date($until)
RETURN e.event_id AS event_id, e.event_type AS event_type, toString(e.date) AS date, e.title AS title,
       e.impact AS impact, e.sentiment AS sentiment, 'company' AS via
UNION ALL
MATCH (c:Stock {symbol: $symbol})-[:BELONGS_TO]->(s:Sector)<-[a:AFFECTS]-(e:MarketEvent)
WHERE e.date > date($since) AND e.date <= date($until)
RETURN e.event_id AS event_id, e.event_type AS event_type, toString(e.date) AS date, e.title AS title,
       e.impact * a.sensitivity AS impact, e.sentiment AS sentiment, 'sector ' + s.name AS via
"""

CASCADE = """
MATCH path = (e:MarketEvent {event_id: $event_id})-[:AFFECTS|BELONGS_TO*1..3]-(c:Company)
WITH c, min(length(path)) AS hops
OPTIONAL MATCH (c)-[:BELONGS_TO]->(s:Sector)<-[a:AFFECTS]-(:MarketEvent {event_id: $event_id})
RETURN c.symbol AS symbol, s.name AS sector, a.sensitivity AS sensitivity, hops,
       c.debt_to_equity AS debt_to_equity, toString(c.as_of) AS snapshot
ORDER BY symbol
"""

SECTOR_EXPOSURE_BEFORE = """
MATCH (c:Company)-[:BELONGS_TO]->(s:Sector)
OPTIONAL MATCH (s)<-[a:AFFECTS]-(e:MarketEvent {event_type: 'fed_decision'}) WHERE e.date < date($until)
RETURN c.symbol AS symbol, s.name AS sector, avg(a.sensitivity) AS sensitivity, 2 AS hops,
       c.debt_to_equity AS debt_to_equity, toString(c.as_of) AS snapshot
ORDER BY symbol
"""

MERGE_ROTATION = """
UNWIND $rows AS row
MERGE (a:Sector {name: row.source})
MERGE (b:Sector {name: row.target})
MERGE (a)-[r:ROTATES_TO {as_of: date(row.as_of)}]->(b)
SET r.strength = row.strength
"""


def read(driver, query: str, **params) -> list[dict]:
    """Rows of one read query (one of this module's constants), as an auto-commit read: one round trip where a
    managed transaction adds its BEGIN and COMMIT (an answer's reads are short, and a failed one is reported)."""
    with driver.session(default_access_mode=READ_ACCESS) as session:
        return session.run(query, params).data()


DROP_ROTATION = """
MATCH (:Sector)-[r:ROTATES_TO]->(:Sector) WHERE $since IS NULL OR r.as_of >= date($since)
DELETE r
"""

ROTATION_AT = """
MATCH (a:Sector)-[r:ROTATES_TO]->(b:Sector) WHERE r.as_of = date($as_of)
RETURN a.name AS source, b.name AS target, r.strength AS strength, toString(r.as_of) AS as_of
ORDER BY r.strength DESC, source, target
"""


def replace_rotation(driver, rows: list[dict], *, since) -> int:
    """``(:Sector)-[:ROTATES_TO {as_of, strength}]->(:Sector)`` (relative strength leaving one sector for another)
    of every session from ``since`` on (all when None), replaced in one transaction."""

    def write(tx):
        tx.run(DROP_ROTATION, since=since.isoformat() if since else None).consume()
        tx.run(MERGE_ROTATION, rows=rows).consume()

    with driver.session() as session:
        session.execute_write(write)
    return len(rows)


NEIGHBOURHOOD = """
MATCH (c:Company {symbol: $symbol})
OPTIONAL MATCH (c)-[:BELONGS_TO]->(s:Sector)
OPTIONAL MATCH (c)-[k:COMPETES_WITH]-(p:Company)
WITH c, s, collect(DISTINCT {symbol: p.symbol, intensity: k.intensity}) AS competitors
OPTIONAL MATCH (c)-[r:CORRELATED_WITH]-(q:Stock) WHERE r.as_of <= date($as_of)
WITH c, s, competitors, collect(DISTINCT {symbol: q.symbol, coefficient: r.coefficient, as_of: toString(r.as_of)})
     AS correlated
OPTIONAL MATCH (c)-[a:AFFECTED_BY]->(e:MarketEvent) WHERE e.date <= date($as_of)
WITH c, s, competitors, correlated, e, a ORDER BY e.date DESC
WITH c, s, competitors, correlated,
     collect({event_id: e.event_id, title: e.title, date: toString(e.date), impact: a.impact})[..$events]
     AS events
RETURN c.symbol AS symbol, c.name AS name, s.name AS sector, competitors, correlated, events
"""


def neighbourhood(driver, symbol: str, as_of, *, events: int = 8) -> dict:
    """A company's graph neighbourhood as nodes and edges: its sector, competitors, correlated peers (edges
    dated on or before ``as_of``) and its latest events up to ``as_of``."""
    rows = read(driver, NEIGHBOURHOOD, symbol=symbol, as_of=as_of.isoformat(), events=events)
    if not rows:
        raise LookupError(f"{symbol} is not a company in the graph: run the company_graph pipeline")
    row = rows[0]
    nodes = [{"id": symbol, "label": symbol, "kind": "company", "name": row["name"]}]
    edges = []
    if row["sector"]:
        nodes.append({"id": f"sector:{row['sector']}", "label": row["sector"], "kind": "sector"})
        edges.append({"source": symbol, "target": f"sector:{row['sector']}", "kind": "BELONGS_TO"})
    peers = {}
    for c in row["competitors"]:
        if c["symbol"]:
            peers[c["symbol"]] = "company"
            edges.append({"source": symbol, "target": c["symbol"], "kind": "COMPETES_WITH", "weight": c["intensity"]})
    for c in row["correlated"]:
        if c["symbol"]:
            peers.setdefault(c["symbol"], "stock")
            edges.append({"source": symbol, "target": c["symbol"], "kind": "CORRELATED_WITH",
                          "weight": c["coefficient"], "as_of": c["as_of"]})  # fmt: skip
    nodes += [{"id": p, "label": p, "kind": kind} for p, kind in sorted(peers.items())]
    for e in row["events"]:
        if e["event_id"] is not None:
            nodes.append({"id": f"event:{e['event_id']}", "label": e["title"], "kind": "event", "date": e["date"]})
            edges.append({"source": symbol, "target": f"event:{e['event_id']}", "kind": "AFFECTED_BY",
                          "weight": e["impact"]})  # fmt: skip
    return {"symbol": symbol, "as_of": as_of.isoformat(), "nodes": nodes, "edges": edges}


CORRELATED_PAIRS = """
MATCH (a:Stock)-[r:CORRELATED_WITH]->(b:Stock)
WHERE abs(r.coefficient) >= $min_coefficient AND ($symbols IS NULL OR a.symbol IN $symbols OR b.symbol IN $symbols)
RETURN a.symbol AS a, b.symbol AS b, r.coefficient AS coefficient, r.window AS window, toString(r.as_of) AS as_of
ORDER BY a, b
"""


# --- the projection as a whole: what the drift check reads, and what a rebuild empties

PROJECTED = {
    "Stock": "MATCH (s:Stock) RETURN s.symbol AS key, [s.close, s.ts, s.session, s.adjusted] AS value",
    "Company": "MATCH (c:Company) OPTIONAL MATCH (c)-[:BELONGS_TO]->(s:Sector) WITH c, s ORDER BY s.name"
    " WITH c, collect(s.name) AS sectors"
    " RETURN c.symbol AS key, [c.name, c.industry, c.market_cap_usd, c.debt_to_equity, c.as_of, sectors] AS value",
    "COMPETES_WITH": "MATCH (a:Company)-[r:COMPETES_WITH]->(b:Company)"
    " RETURN [a.symbol, b.symbol] AS key, [r.intensity, r.analyst, r.as_of] AS value",
    "MarketEvent": "MATCH (e:MarketEvent)"
    " RETURN e.event_id AS key, [e.event_type, e.date, e.title, e.source, e.impact, e.sentiment] AS value",
    "AFFECTED_BY": "MATCH (s:Stock)-[r:AFFECTED_BY]->(e:MarketEvent) RETURN [s.symbol, e.event_id] AS key,"
    " r.impact AS value",
    "AFFECTS": "MATCH (e:MarketEvent)-[r:AFFECTS]->(s:Sector) RETURN [e.event_id, s.name] AS key,"
    " [r.sensitivity, r.observations] AS value",
    "CORRELATED_WITH": "MATCH (a:Stock)-[r:CORRELATED_WITH]->(b:Stock) RETURN [a.symbol, b.symbol, r.window] AS key,"
    " [r.coefficient, r.as_of, r.explanation, r.observations] AS value",
    "ROTATES_TO": "MATCH (a:Sector)-[r:ROTATES_TO]->(b:Sector) RETURN [a.name, b.name, toString(r.as_of)] AS key,"
    " r.strength AS value",
}

# what a repair deletes that the ledger does not imply, per kind, by the keys ``projected`` gives
DELETE_EXTRA = {
    "Stock": "UNWIND $keys AS k MATCH (s:Stock {symbol: k}) DETACH DELETE s",
    "Company": "UNWIND $keys AS k MATCH (c:Company {symbol: k}) OPTIONAL MATCH (c)-[r:BELONGS_TO|COMPETES_WITH]-()"
    " DELETE r REMOVE c:Company",
    "COMPETES_WITH": "UNWIND $keys AS k MATCH (:Company {symbol: k[0]})-[r:COMPETES_WITH]->(:Company {symbol: k[1]})"
    " DELETE r",
    "MarketEvent": "UNWIND $keys AS k MATCH (e:MarketEvent {event_id: k}) DETACH DELETE e",
    "AFFECTED_BY": "UNWIND $keys AS k MATCH (:Stock {symbol: k[0]})-[r:AFFECTED_BY]->(:MarketEvent {event_id: k[1]})"
    " DELETE r",
    "AFFECTS": "UNWIND $keys AS k MATCH (:MarketEvent {event_id: k[0]})-[r:AFFECTS]->(:Sector {name: k[1]}) DELETE r",
    "CORRELATED_WITH": "UNWIND $keys AS k MATCH (:Stock {symbol: k[0]})-[r:CORRELATED_WITH {window: k[2]}]->"
    "(:Stock {symbol: k[1]}) DELETE r",
    "ROTATES_TO": "UNWIND $keys AS k MATCH (:Sector {name: k[0]})-[r:ROTATES_TO]->(:Sector {name: k[1]})"
    " WHERE r.as_of = date(k[2]) DELETE r",
}


def projected(driver) -> dict[str, dict]:
    """Per node label and relationship type the pipelines draw, key -> properties, as the graph holds them.
    Keys that are several values come back as tuples; the same row may appear twice only if the graph
    holds a duplicate, which then shows as one key."""
    out = {}
    with driver.session() as session:
        for kind, query in PROJECTED.items():
            rows = session.execute_read(lambda tx, q=query: [(r["key"], r["value"]) for r in tx.run(q)])
            out[kind] = {tuple(k) if isinstance(k, list) else k: v for k, v in rows}
    return out


def delete_extra(driver, kind: str, keys: list) -> int:
    """Delete the nodes or edges of ``kind`` with these keys (a repair's extras), in one transaction."""
    with driver.session() as session:
        session.execute_write(lambda tx: tx.run(DELETE_EXTRA[kind], keys=[list(k) if isinstance(k, tuple) else k
                                                                          for k in keys]).consume())  # fmt: skip
    return len(keys)


def delete_all(driver) -> None:
    """Delete every node and relationship (tests and benchmarks, on their own instance)."""
    with driver.session() as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
