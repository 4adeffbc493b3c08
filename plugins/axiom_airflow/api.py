"""Axiom's HTTP API and page, served by the Airflow api-server under ``/axiom`` (see ``plugin.py``).

Every path of the app, the OpenAPI document and its ``docs``/``redoc`` pages included, needs the
api-server's own authentication: the JWT the UI and the REST API use (a ``Bearer`` token, or the UI's
``_token`` cookie), checked by Airflow's ``get_user`` dependency; a request without it is refused with
401. What a DAG run wrote is shown only to a user the auth manager lets read that DAG's runs, with its
text masked as Airflow masks task logs.

Inputs are validated (symbols by the pattern the DAG Params use, dates by ``axiom.validation.parse_date``,
lists and sizes bounded); a bad one is a 4xx with the reason. A store that cannot be reached is a 503
naming it, and a route only connects to the stores it reads, so one store down leaves the others' routes
answering. Anything else is a bug: a 500, with its traceback in the api-server's log. PostgreSQL reads
take a connection from a bounded pool (``AXIOM_API_POOL_SIZE``), and as many requests work at once as it
has connections, so a burst of requests waits its turn instead of exhausting the server's
``max_connections`` that Airflow's metadata database shares (or the api-server's two cores).
The routes only adapt HTTP to the domain functions (``axiom.insights``, ``axiom.search``, ``axiom.explore``).

``api/live`` is the page's live panel: Server-Sent Events (a snapshot of the newest session, the latest prices
and the replay, again whenever they change; then each alert of ``signal:stream`` as it arrives, with its pair's
spread), read from the stream with plain XREAD from the client's Last-Event-ID: a viewer, never a member of
the consumer groups that deliver alerts. At most ``AXIOM_LIVE_MAX_STREAMS`` per api-server worker (then 503),
each closed after ``AXIOM_LIVE_STREAM_SECONDS`` (the browser reconnects where it was).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
import neo4j.exceptions
import psycopg
import redis.asyncio
import redis.exceptions
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import get_user, requires_access_dag
from airflow.sdk import BaseHook
from airflow.sdk._shared.secrets_masker import redact
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from psycopg_pool import ConnectionPool
from pydantic import AfterValidator, BeforeValidator
from starlette.concurrency import run_in_threadpool

from axiom import config, explore, search
from axiom.config import Settings
from axiom.insights.ask import ask
from axiom.models import EVENT_TYPES
from axiom.stores import cache, ledger
from axiom.validation import SYMBOL_PATTERN, parse_date
from axiom_airflow.stores import StoreSession

log = logging.getLogger(__name__)

WEB = Path(__file__).parent / "web"
STATE = Path(os.environ.get("AXIOM_STATE_DIR", Path(__file__).resolve().parents[2] / ".state"))
ECHARTS = STATE / "tools" / "node_modules" / "echarts" / "dist" / "echarts.min.js"
POOL_NAME = "axiom-api"  # the pool's connections carry it as their application_name


def dated(name: str, description: str, *, required: bool = False):
    """A date query parameter read by ``parse_date``, the parser the CLI and the DAGs use (an exact
    ``YYYY-MM-DD`` in its range: no epoch numbers, no timestamps); a bad one is a 422 saying why."""
    kind = date if required else date | None
    return Annotated[kind, BeforeValidator(lambda v: parse_date(v, name)), Query(description=description)]


def distinct(values: list | None) -> list | None:
    return list(dict.fromkeys(values)) if values else values


Symbol = Annotated[str, PathParam(pattern=SYMBOL_PATTERN.pattern, max_length=20, description="a ticker, e.g. AAPL")]
AsOf = dated("as_of", "the session the answer stands on (default: the newest)")
WindowEnd = dated("as_of", "the session whose window is matched", required=True)
Since = dated("since", "events and correlations dated on or after")
Until = dated("until", "events and correlations dated on or before")
Kind = Literal[tuple(search.TEXT_KINDS)]  # type: ignore[valid-type]

app = FastAPI(
    title="Axiom",
    description="Answers, search, correlations and the graph, point in time, from Axiom's four stores.",
    version="1",
    docs_url=None,  # served below, behind the same authentication as every other path
    redoc_url=None,
    openapi_url=None,
)


class StoreUnavailable(Exception):
    """A store could not be reached: the request did nothing wrong, so it is a 503 naming the store."""

    def __init__(self, store: str, error: BaseException) -> None:
        super().__init__(f"{store} is unavailable: {type(error).__name__}: {error}")
        self.store = store


# what each store's client raises when its server cannot be reached (Chroma's HTTP client is httpx)
OUTAGES = {
    psycopg.OperationalError: "postgres",  # psycopg_pool's PoolTimeout too
    redis.exceptions.ConnectionError: "redis",
    redis.exceptions.TimeoutError: "redis",
    neo4j.exceptions.ServiceUnavailable: "neo4j",
    neo4j.exceptions.SessionExpired: "neo4j",
    httpx.TransportError: "chroma",
}


def store_down(request: Request, exc: Exception) -> JSONResponse:
    error = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(OUTAGES[_outage(exc)], exc)
    log.warning("%s %s: %s", request.method, request.url.path, error)
    return JSONResponse(status_code=503, content={"detail": redact(str(error)), "store": error.store})


def _outage(exc: Exception) -> type:
    return next(kind for kind in type(exc).__mro__ if kind in OUTAGES)


def refused_by_axiom(exc: Exception) -> bool:
    """Whether Axiom's own code raised this plain ValueError or LookupError to refuse the request (its
    message says what was wrong), rather than a library or a bug (a KeyError, an IndexError, numpy's
    ValueError): the innermost frame of its traceback is in the ``axiom`` package."""
    if type(exc) not in (ValueError, LookupError) or exc.__traceback__ is None:
        return False
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_globals.get("__name__", "").startswith("axiom.")


def bad_request(request: Request, exc: Exception) -> JSONResponse:
    """400 for an input Axiom refused, 404 for something it has not got; any other such error is a bug."""
    if not refused_by_axiom(exc):
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse(status_code=500, content={"detail": "internal error: see the api-server log"})
    return JSONResponse(status_code=400 if isinstance(exc, ValueError) else 404, content={"detail": str(exc)})


app.add_exception_handler(StoreUnavailable, store_down)
for _kind in OUTAGES:
    app.add_exception_handler(_kind, store_down)
app.add_exception_handler(ValueError, bad_request)
app.add_exception_handler(LookupError, bad_request)


class Shared:
    """What every request shares, made once on first use (under a lock: requests run on many threads):
    the ledger's connection pool, and the Redis, Neo4j and Chroma clients (each safe across threads)."""

    def __init__(self) -> None:
        self._locks = {name: threading.Lock() for name in ("pool", "redis_client", "driver", "chroma_client")}
        self._session = StoreSession()  # never closed: its clients live as long as the api-server process
        self._pool: ConnectionPool | None = None

    def pool(self) -> ConnectionPool:
        with self._locks["pool"]:
            if self._pool is None:
                self._pool = ledger_pool()
            return self._pool

    def client(self, name: str, store: str):
        with self._locks[name]:  # one lock per client: Chroma being slow to refuse holds up no other store
            try:
                return self._session.client(name)
            except Exception as exc:  # Chroma's client reaches its server as it is made
                raise StoreUnavailable(store, exc) from exc


def pool_size() -> int:
    return int(os.environ.get("AXIOM_API_POOL_SIZE", 10))


def ledger_pool() -> ConnectionPool:
    """A pool of autocommit ledger connections pinned to UTC, from the ``axiom_postgres`` connection:
    at most ``AXIOM_API_POOL_SIZE`` per api-server worker, each request waiting up to
    ``AXIOM_API_POOL_TIMEOUT`` seconds for one (then a 503)."""
    conn = BaseHook.get_connection(config.POSTGRES_CONN_ID)  # registers its password with the log masker
    pool = ConnectionPool(
        kwargs={
            "host": conn.host,
            "port": conn.port or 5432,
            "user": conn.login,
            "password": conn.password,
            "dbname": conn.schema,
            "application_name": POOL_NAME,
            "options": "-c TimeZone=UTC",
            "autocommit": True,
        },
        min_size=1,
        max_size=pool_size(),
        timeout=float(os.environ.get("AXIOM_API_POOL_TIMEOUT", 30)),
        check=ConnectionPool.check_connection,  # a connection the server dropped is replaced, not handed out
        name=POOL_NAME,
        open=False,
    )
    pool.open(wait=False)
    return pool


SHARED = Shared()


class RequestStores:
    """The four stores of one request (``axiom.insights.common.Stores``' fields), each taken on first use,
    so a route touches only the stores it reads: a pooled ledger connection, the shared clients."""

    def __init__(self) -> None:
        self._conn = None

    @property
    def conn(self):
        if self._conn is None:
            self._conn = SHARED.pool().getconn()
        return self._conn

    @property
    def redis_client(self):
        return SHARED.client("redis_client", "redis")

    @property
    def driver(self):
        return SHARED.client("driver", "neo4j")

    @property
    def chroma_client(self):
        return SHARED.client("chroma_client", "chroma")

    def close(self) -> None:
        if self._conn is not None:
            SHARED.pool().putconn(self._conn)  # a connection left in a transaction is rolled back
            self._conn = None


TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def turns() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in TURNS:
        TURNS[loop] = asyncio.Semaphore(pool_size())
    return TURNS[loop]


async def turn():
    """As many requests at work as the pool has connections; the others wait their turn on the event loop,
    holding no thread, so the threads that run routes and give connections back are never all taken by
    waiters, and the pool's timeout is only reached when the ledger is down or stuck (a burst queues)."""
    async with turns():
        yield


def stores(_: Annotated[None, Depends(turn)]):
    request_stores = RequestStores()
    try:
        yield request_stores
    finally:
        request_stores.close()


StoresDep = Annotated[RequestStores, Depends(stores)]
api = APIRouter(dependencies=[Depends(get_user)])


def answer(s: RequestStores, question: str, subject: str | None, as_of: date | None) -> dict:
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
    kinds: Annotated[
        list[Kind] | None,
        Query(max_length=len(search.TEXT_KINDS), description="each kind at most once"),
        AfterValidator(distinct),
    ] = None,
    event_type: Annotated[Literal[EVENT_TYPES] | None, Query()] = None,  # type: ignore[valid-type]
    symbol: Annotated[str | None, Query(pattern=SYMBOL_PATTERN.pattern, max_length=20)] = None,
    since: Since = None,
    until: Until = None,
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
    as_of: WindowEnd,
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


@api.get(
    "/api/evaluation/{kind}.png",
    summary="The chart of the newest walk-forward evaluation of the buy verdicts or the divergences",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def evaluation_chart(kind: Literal["buy", "divergence"], s: StoresDep) -> Response:
    from axiom import evaluation  # its statistics stack loads on the first chart asked, not with every api-server

    return Response(evaluation.chart_png(s.conn, kind), media_type="image/png")


@api.get("/api/status", summary="Counts per store, and how far each projection is from the ledger")
def store_status(s: StoresDep) -> dict:
    return explore.store_status(
        s.conn, s.redis_client, s.driver, s.chroma_client, window=Settings.from_env().pattern_window
    )


@api.get(
    "/api/runs/{dag_id}/{run_id}",
    summary="What an Airflow DAG run wrote to each store",
    dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.RUN))],
)
def run_writes(
    s: StoresDep,
    dag_id: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.\-]{1,250}$")],
    run_id: Annotated[str, PathParam(max_length=250)],
) -> dict[str, Any]:
    return redact(explore.run_writes(s.conn, dag_id, run_id))  # a failure's text, params: as task logs are


# --- the live panel: Server-Sent Events ---------------------------------------------------------------------

LIVE_BLOCK_MS = 2000  # one XREAD waits this long (redis-py's socket timeout below is longer)
LIVE_HEARTBEAT_SECONDS = 15.0  # a comment line when nothing else was sent for this long (proxies keep the connection)
LIVE_BACKLOG = 20  # a client that resumes from nothing is sent the newest alerts first
ENTRY_ID = r"^\d{1,20}(-\d{1,20})?$"  # a stream entry id, the SSE event id


def live_max_streams() -> int:
    return int(os.environ.get("AXIOM_LIVE_MAX_STREAMS", 20))


def live_stream_seconds() -> float:
    return float(os.environ.get("AXIOM_LIVE_STREAM_SECONDS", 300))


class LiveSlots:
    """The live streams open on this api-server worker, at most ``AXIOM_LIVE_MAX_STREAMS``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0

    def take(self) -> bool:
        with self._lock:
            if self.open >= live_max_streams():
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open -= 1


LIVE_SLOTS = LiveSlots()
ASYNC_REDIS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = weakref.WeakKeyDictionary()


def async_redis() -> redis.asyncio.Redis:
    """This event loop's asyncio Redis client (``axiom_redis``), for the stream reads that wait: a waiting
    XREAD holds a connection, never a thread."""
    loop = asyncio.get_running_loop()
    if loop not in ASYNC_REDIS:
        conn = BaseHook.get_connection(config.REDIS_CONN_ID)  # registers its password with the log masker
        ASYNC_REDIS[loop] = redis.asyncio.Redis(
            host=conn.host or "127.0.0.1",
            port=conn.port or 6379,
            password=conn.password,
            db=int(conn.extra_dejson.get("db", 0)),
            socket_timeout=LIVE_BLOCK_MS / 1000 + 10,
            socket_connect_timeout=10,
        )
    return ASYNC_REDIS[loop]


async def read_stores(read: Callable[[RequestStores], Any]) -> Any:
    """``read(stores)`` on a thread, with a pooled ledger connection, taking its turn like any request."""

    def run():
        s = RequestStores()
        try:
            return read(s)
        finally:
            s.close()

    async with turns():
        return await run_in_threadpool(run)


def sse(event: str, data: dict, event_id: str | None = None) -> str:
    """One Server-Sent Event (JSON has no raw newline, so ``data`` is one line)."""
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id else "")
    return f"{head}data: {json.dumps(data, default=str)}\n\n"


class LiveResponse(StreamingResponse):
    """A live stream that gives its slot back however it ends: finished, the client gone, cancelled."""

    def __init__(self, content: AsyncIterator[str], release: Callable[[], None]) -> None:
        super().__init__(
            content,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._release = release

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def alert_event(s: RequestStores, entry_id: str, signal: dict) -> str:
    """An ``alert`` event; an entry whose spread cannot be drawn (a session that is not a date) goes without one."""
    try:
        spread = explore.pair_spread(s.conn, signal["a"], signal["b"], signal["session"], beta=float(signal["beta"]))
    except ValueError as exc:
        log.warning("no spread for stream entry %s: %s", entry_id, exc)
        spread = None
    body = {"id": ledger.signals.signal_id(signal), "entry": entry_id, "signal": signal, "spread": spread}
    return sse("alert", body, entry_id)


async def live_events(request: Request, start: str, snapshot: dict, version: str) -> AsyncIterator[str]:
    """The stream: the snapshot (its id: the entry it resumes after), then each alert after ``start`` as it
    arrives and, when ``explore.live_version`` moves, a new snapshot; a heartbeat comment when idle. A store
    that goes away ends the stream with an ``unavailable`` event: the browser reconnects from its last id."""
    cursor = start
    yield f"retry: 3000\n{sse('snapshot', snapshot, cursor)}"
    sent = time.monotonic()
    ends = sent + live_stream_seconds()
    client = async_redis()
    try:
        pending: list = []
        while time.monotonic() < ends and not await request.is_disconnected():
            for entry_id, fields in pending:
                cursor = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                try:
                    signal = cache.signal_of(fields)
                except ValueError:
                    continue  # not a signal: the consumer groups dead-letter it; a viewer skips it
                yield await read_stores(lambda s, e=cursor, g=signal: alert_event(s, e, g))
                sent = time.monotonic()
            now_version = await read_stores(lambda s: explore.live_version(s.conn))
            if now_version != version:
                version = now_version
                now = await read_stores(lambda s: explore.live_snapshot(s.conn, s.redis_client))
                yield sse("snapshot", now, cursor)
                sent = time.monotonic()
            elif time.monotonic() - sent >= LIVE_HEARTBEAT_SECONDS:
                yield ": keep-alive\n\n"
                sent = time.monotonic()
            reply = await client.xread({cache.SIGNAL_STREAM: cursor}, count=50, block=LIVE_BLOCK_MS)
            pending = reply[0][1] if reply else []
    except (StoreUnavailable, *OUTAGES) as exc:
        error = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(OUTAGES[_outage(exc)], exc)
        log.warning("live stream ended: %s", error)
        yield sse("unavailable", {"store": error.store, "detail": redact(str(error))})


@api.get(
    "/api/live",
    summary="Server-Sent Events: the newest session and prices, then each alert as it fires",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, 503: {"description": "too many live streams"}},
)
async def live(
    request: Request,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", pattern=ENTRY_ID, description="resume after this stream entry")
    ] = None,
    after: Annotated[
        str | None, Query(pattern=ENTRY_ID, description="resume after this stream entry (Last-Event-ID wins)")
    ] = None,
):
    """``text/event-stream`` of events ``snapshot`` (the newest session, each symbol's latest price and its
    change, the replay's state), ``alert`` (a ``signal:stream`` entry: the signal and its pair's spread over 60
    sessions; id: the entry id) and ``unavailable`` (a store went away; the stream ends). Read-only."""
    if not LIVE_SLOTS.take():
        return JSONResponse(
            status_code=503,
            headers={"Retry-After": "10"},
            content={"detail": f"this api-server worker serves {live_max_streams()} live streams already"},
        )
    try:
        resume = last_event_id or after

        def first(s: RequestStores):  # a client that resumes from nothing starts before the newest alerts
            start = resume or cache.stream_start(s.redis_client, LIVE_BACKLOG)
            version = explore.live_version(s.conn)  # before the snapshot: a change meanwhile sends another
            return start, explore.live_snapshot(s.conn, s.redis_client), version

        start, snapshot, version = await read_stores(first)
        return LiveResponse(live_events(request, start, snapshot, version), LIVE_SLOTS.give_back)
    except BaseException:
        LIVE_SLOTS.give_back()
        raise


@api.get("/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(WEB / "index.html")


@api.get("/runs/{dag_id}/{run_id}", include_in_schema=False)
def run_page(dag_id: str, run_id: str) -> FileResponse:
    return FileResponse(WEB / "run.html")


@api.get("/static/{name}", include_in_schema=False)
def static(name: Literal["axiom.js", "axiom.css", "echarts.min.js"]) -> FileResponse:
    return FileResponse(ECHARTS if name == "echarts.min.js" else WEB / name)


@api.get("/openapi.json", include_in_schema=False)
def openapi() -> dict:
    return app.openapi()


@api.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="openapi.json", title="Axiom API")  # relative: under any prefix


@api.get("/redoc", include_in_schema=False)
def redoc() -> HTMLResponse:
    return get_redoc_html(openapi_url="openapi.json", title="Axiom API")


app.include_router(api)
