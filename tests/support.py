"""What the integration tests share: store helpers, the fake Anthropic transport, a pub/sub subscriber
and real Airflow components. Only the Anthropic API is faked here, at its HTTP boundary."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest

from axiom import connections
from axiom.analysts.claude import ClaudeAnalyst
from axiom.models import Company


def wipe(pg, redis_client, neo4j_driver, chroma_client) -> None:
    """Empty every store Axiom writes to (schema stays), once it is sure they are the test stores."""
    connections.empty_test_stores(pg, redis_client, neo4j_driver, chroma_client)


def load_stores(dagbag, runs, *, pg, redis_client, neo4j_driver, chroma_client, landing: Path) -> None:
    """Empty the test stores, then run each (dag_id, conf) for real with ``dag.test()``, each to success."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AXIOM_LANDING_DIR", str(landing))
        wipe(pg, redis_client, neo4j_driver, chroma_client)
        for dag_id, conf in runs:
            assert dagbag.dags[dag_id].test(run_conf=conf).state == "success", dag_id


# the pipeline runs whose data the API and page tests read
DAGS = (
    ("company_graph", {"provider": "offline"}),
    ("price_ingestion", {"symbols": [], "start": "2021-06-01", "end": "2022-12-31", "provider": "offline"}),
    ("market_events", {"symbols": [], "start": "2022-01-01", "end": "2022-12-31", "k": 5.0, "window": 60}),
    ("correlations", {"window": 30, "threshold": 0.7}),
)


# three energy companies, the universe the fake Claude names competitors from
UNIVERSE = [
    Company("XOM", "Exxon Mobil", "Energy", "Integrated Oil & Gas", 454e9),
    Company("CVX", "Chevron", "Energy", "Integrated Oil & Gas", 347e9),
    Company("RRC", "Range Resources", "Energy", "Oil & Gas Exploration & Production", 6e9),
]


def message(content, stop_reason="tool_use"):
    """An Anthropic Messages API response body."""
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 120, "output_tokens": 30},
    }


def tool_use(name, payload):
    """One tool call of a response body."""
    return {"type": "tool_use", "id": "toolu_test", "name": name, "input": payload}


OVERLOADED = (529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})


class FakeAnthropic:
    """Plays a script of HTTP responses and records the requests it received."""

    def __init__(self, *responses):
        self.script = list(responses)
        self.requests: list[dict] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(json.loads(request.content))
        status, body = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        headers = {"retry-after-ms": "5"} if status >= 429 else {}
        return httpx2.Response(status, json=body, headers=headers)

    def analyst(self, max_retries=2):
        client = httpx2.Client(transport=httpx2.MockTransport(self))
        return ClaudeAnalyst(
            api_key="test-key-not-real",
            model="claude-test",
            http_client=client,
            max_retries=max_retries,
            base_url="http://anthropic.test",
        )


class Subscriber:
    """Collects messages from one pub/sub channel on a background thread."""

    def __init__(self, client, channel):
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel)
        self.messages: list[dict] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self):
        while not self._stop.is_set():
            message = self.pubsub.get_message(timeout=0.2)
            if message:
                self.messages.append(json.loads(message["data"]))

    def close(self):
        time.sleep(0.5)
        self._stop.set()
        self.thread.join()
        self.pubsub.close()


def wait_until(what: str, check, *, seconds: int, logs) -> None:
    """Poll ``check`` once a second; fail with the tails of the component logs under ``logs`` if it stays false."""
    for _ in range(seconds):
        if check():
            return
        time.sleep(1)
    tails = {p.name: p.read_text()[-1500:] for p in sorted(logs.glob("*.log"))}
    pytest.fail(f"{what} did not happen within {seconds} s; component logs: {tails}")


API_URL = f"http://127.0.0.1:{os.environ.get('AIRFLOW__API__PORT', '8081')}"


def _command(part: str) -> tuple[list[str], dict[str, str]]:
    """The command line and extra environment of one component: ``celery worker NAME`` is started as
    scripts/services.sh starts it (Celery node NAME@host, tasks recording the host as HOST:NAME)."""
    match part.split():
        case ["celery", "worker", name]:
            command = ["airflow", "celery", "worker", "--celery-hostname", f"{name}@%h", "--skip-serve-logs"]
            return command, {"AXIOM_WORKER_NAME": name}
        case [component]:
            return ["airflow", component], {}
    raise ValueError(f"not an Airflow component: {part!r}")


@contextmanager
def airflow_components(*parts: str, logs: Path, env: dict[str, str] | None = None):
    """Real Airflow components (``api-server``, ``scheduler``, ``dag-processor``, ``triggerer``,
    ``celery worker NAME``) on the tests' metadata database, each logging to ``logs/<part-with-dashes>.log``, with
    ``env`` over the tests' environment (e.g. another executor); stopped (by their PIDs) on exit."""
    logs.mkdir(parents=True, exist_ok=True)
    started = []
    try:
        for part in parts:
            command, extra = _command(part)
            environment = {**os.environ, **(env or {}), **extra}
            with (logs / f"{part.replace(' ', '-')}.log").open("w") as out:
                started.append(
                    subprocess.Popen(
                        command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=environment
                    )
                )
        if "api-server" in parts:
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"{API_URL}/api/v2/monitor/health", timeout=2)
                    break
                except OSError:
                    for part, process in zip(parts, started, strict=True):
                        assert process.poll() is None, (logs / f"{part.replace(' ', '-')}.log").read_text()[-2000:]
                    time.sleep(1)
            else:
                pytest.fail(
                    f"the api-server did not answer within 120 s: {(logs / 'api-server.log').read_text()[-2000:]}"
                )
        yield API_URL
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def connection_secrets() -> set[str]:
    """Every password in the connections the tests use (AIRFLOW_CONN_* and the metadata database)."""
    from urllib.parse import unquote, urlsplit

    uris = [v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")]
    uris.append(os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    return {unquote(urlsplit(uri).password) for uri in uris if urlsplit(uri).password}


def leaked_secrets(*folders: Path) -> dict[str, list[str]]:
    """Log files under ``folders`` that contain a connection password, by file."""
    secrets = connection_secrets()
    found = {}
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if path.is_file():
                text = path.read_text(errors="replace")
                if hits := sorted(s for s in secrets if s in text):
                    found[str(path)] = [f"{h[:2]}…" for h in hits]
    return found


# headless Debian chromium (tests/integration/test_page.py, test_live.py, test_replay.py)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1700",
    "--virtual-time-budget=30000",
]


class DevTools:
    """Headless Chromium driven over the DevTools protocol (the page's own scripts run; ours only observe)."""

    def __init__(self, profile: Path) -> None:
        from websockets.sync.client import connect

        flags = [f for f in CHROMIUM_FLAGS if not f.startswith("--virtual-time-budget")]
        self.process = subprocess.Popen(
            [shutil.which("chromium") or "/usr/bin/chromium", *flags, f"--user-data-dir={profile}",
             "--remote-debugging-port=0", "about:blank"],
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        for line in self.process.stderr:
            if found := re.search(r"DevTools listening on ws://([^/]+)/", line):
                break
        else:
            pytest.fail("chromium did not open its DevTools port")
        with urllib.request.urlopen(f"http://{found.group(1)}/json/list", timeout=10) as listing:
            page = next(t for t in json.load(listing) if t["type"] == "page")
        self.socket = connect(page["webSocketDebuggerUrl"], max_size=None)
        self.calls = 0
        self.call("Page.enable")  # scripts added for new documents run only with it

    def call(self, method: str, **params):
        self.calls += 1
        self.socket.send(json.dumps({"id": self.calls, "method": method, "params": params}))
        while (reply := json.loads(self.socket.recv(timeout=60))).get("id") != self.calls:
            pass  # an event
        assert "error" not in reply, reply
        return reply["result"]

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for(self, expression: str, *, seconds: float, what: str):
        """Poll ``expression`` in the page until it is truthy (its value), in real time; fail saying ``what``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if value := self.evaluate(expression):
                return value
            time.sleep(0.25)
        pytest.fail(f"{what} within {seconds} s; the page says: {self.evaluate('document.body.innerText')[:2000]}")

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)
