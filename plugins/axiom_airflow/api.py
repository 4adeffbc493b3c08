"""Axiom's HTTP API and page, served by the Airflow api-server under ``/axiom`` (see ``plugin.py``).

Every route needs the api-server's own authentication: the JWT the UI and the REST API use (a
``Bearer`` token, or the UI's ``_token`` cookie), checked by Airflow's ``get_user`` dependency; a
request without it is refused with 401. Inputs are validated (symbols by the pattern the DAG Params
use, dates exactly); a bad one is a 4xx with the reason, never a traceback. The routes only adapt
HTTP to the domain functions (``axiom.insights``, ``axiom.search``, ``axiom.explore``).
"""

from __future__ import annotations

import functools
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from airflow.api_fastapi.core_api.security import get_user
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse

from axiom import explore, search
from axiom.config import Settings
from axiom.insights.ask import ask
from axiom.insights.common import Stores
from axiom.models import EVENT_TYPES
from axiom.validation import SYMBOL_PATTERN
from axiom_airflow.stores import StoreSession

WEB = Path(__file__).parent / "web"
STATE = Path(os.environ.get("AXIOM_STATE_DIR", Path(__file__).resolve().parents[2] / ".state"))
ECHARTS = STATE / "tools" / "node_modules" / "echarts" / "dist" / "echarts.min.js"

Symbol = Annotated[str, PathParam(pattern=SYMBOL_PATTERN.pattern, max_length=20, description="a ticker, e.g. AAPL")]
AsOf = Annotated[date | None, Query(description="the session the answer stands on (default: the newest)")]

app = FastAPI(
    title="Axiom",
    description="Answers, search, correlations and the graph, point in time, from Axiom's four stores.",
    version="1",
)


@app.exception_handler(ValueError)
def bad_input(request: Request, exc: ValueError) -> JSONResponse:
    return JSONResponse(status_code=400, content={"detail": str(exc)})


@app.exception_handler(LookupError)
def not_found(request: Request, exc: LookupError) -> JSONResponse:
    return JSONResponse(status_code=404, content={"detail": str(exc)})


@functools.cache
def shared() -> StoreSession:
    """Redis, Neo4j and Chroma clients shared by every request (each is safe across threads)."""
    return StoreSession()


def stores():
    """The four stores for one request: its own ledger connection, the shared clients."""
    with StoreSession() as request_stores:
        clients = shared()
        yield Stores(
            request_stores.ledger,
            clients.client("redis_client"),
            clients.client("driver"),
            clients.client("chroma_client"),
        )


StoresDep = Annotated[Stores, Depends(stores)]
api = APIRouter(dependencies=[Depends(get_user)])


def answer(s: Stores, question: str, subject: str | None, as_of: date | None) -> dict:
    from axiom.analysts.judge import judge_from_env

    settings = Settings.from_env()
    insight = ask(
        s, question, judge=judge_from_env(s.conn), subject=subject, as_of=as_of, ttl_seconds=settings.insight_ttl
    )
    return insight.to_json()


@api.get("/api/questions/buy/{symbol}", summary="Is the stock a buy?")
def buy(symbol: Symbol, s: StoresDep, as_of: AsOf = None) -> dict:
    return answer(s, "buy", symbol, as_of)


@api.get("/api/questions/rotation", summary="Which sectors are rotating into strength?")
def rotation(s: StoresDep, as_of: AsOf = None) -> dict:
    return answer(s, "rotation", None, as_of)


@api.get("/api/questions/cascade", summary="Who is exposed to a Fed decision?")
def cascade(
    s: StoresDep,
    as_of: AsOf = None,
    event: Annotated[
        str | None,
        Query(pattern=r"^(\d{4}-\d{2}-\d{2}|(hike|cut) \d{1,4}bp)$", description="a decision date, or 'hike 50bp'"),
    ] = None,
) -> dict:
    return answer(s, "cascade", event, as_of)


@api.get("/api/questions/like/{symbol}", summary="Which stocks are like this one?")
def like(symbol: Symbol, s: StoresDep, as_of: AsOf = None) -> dict:
    return answer(s, "like", symbol, as_of)


@api.get("/api/search", summary="Search companies, events and correlations by meaning")
def search_text(
    s: StoresDep,
    text: Annotated[str, Query(min_length=1, max_length=1000)],
    kinds: Annotated[list[Literal["companies", "market_events", "correlations"]] | None, Query()] = None,
    event_type: Annotated[Literal[EVENT_TYPES] | None, Query()] = None,  # type: ignore[valid-type]
    symbol: Annotated[str | None, Query(pattern=SYMBOL_PATTERN.pattern, max_length=20)] = None,
    since: date | None = None,
    until: date | None = None,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[dict]:
    where = search.where_clause(event_type=event_type, symbol=symbol, since=since, until=until)
    hits = search.search(s.chroma_client, text, kinds=kinds, where=where, k=k)
    return [{"kind": h.kind, "id": h.id, "distance": h.distance, "document": h.document, "metadata": h.metadata}
            for h in hits]  # fmt: skip


@api.get("/api/similar/companies/{symbol}", summary="Companies whose business descriptions are nearest")
def similar_companies(symbol: Symbol, s: StoresDep, k: Annotated[int, Query(ge=1, le=20)] = 5) -> list[dict]:
    hits = search.similar_companies(s.chroma_client, symbol, k)
    return [{"symbol": h.metadata["symbol"], "name": h.metadata["name"], "distance": h.distance} for h in hits]


@api.get("/api/similar/patterns/{symbol}", summary="Past windows like the symbol's, and what followed")
def similar_patterns(
    symbol: Symbol,
    s: StoresDep,
    as_of: date,
    horizon: Annotated[int, Query(ge=1, le=250)] = 20,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[dict]:
    matches = search.similar_price_patterns(s.conn, s.chroma_client, symbol, as_of, k=k, horizon=horizon)
    return [m.__dict__ | {"window_end": m.window_end.isoformat(), "horizon_end": m.horizon_end.isoformat()}
            for m in matches]  # fmt: skip


@api.get("/api/correlations", summary="The correlation matrix of daily returns at an as-of session")
def correlations(s: StoresDep, as_of: AsOf = None, window: Annotated[int, Query(ge=5, le=1000)] = 30) -> dict:
    return explore.correlation_matrix(s.conn, as_of, window=window)


@api.get("/api/graph/{symbol}", summary="A company's graph neighbourhood as nodes and edges")
def neighbourhood(symbol: Symbol, s: StoresDep, as_of: AsOf = None) -> dict:
    return explore.neighbourhood(s.conn, s.driver, symbol, as_of)


@api.get("/api/prices/{symbol}", summary="A symbol's closes up to an as-of session")
def prices(
    symbol: Symbol, s: StoresDep, as_of: AsOf = None, sessions: Annotated[int, Query(ge=2, le=5000)] = 250
) -> dict:
    return explore.price_history(s.conn, symbol, as_of, sessions=sessions)


@api.get("/api/status", summary="Counts per store, and how far each projection is from the ledger")
def store_status(s: StoresDep) -> dict:
    return explore.store_status(
        s.conn, s.redis_client, s.driver, s.chroma_client, window=Settings.from_env().pattern_window
    )


@api.get("/api/runs/{dag_id}/{run_id}", summary="What an Airflow DAG run wrote to each store")
def run_writes(
    s: StoresDep,
    dag_id: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.\-]{1,250}$")],
    run_id: Annotated[str, PathParam(max_length=250)],
) -> dict:
    return explore.run_writes(s.conn, dag_id, run_id)


@api.get("/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(WEB / "index.html")


@api.get("/runs/{dag_id}/{run_id}", include_in_schema=False)
def run_page(dag_id: str, run_id: str) -> FileResponse:
    return FileResponse(WEB / "run.html")


@api.get("/static/{name}", include_in_schema=False)
def static(name: Literal["axiom.js", "axiom.css", "echarts.min.js"]) -> FileResponse:
    return FileResponse(ECHARTS if name == "echarts.min.js" else WEB / name)


app.include_router(api)
