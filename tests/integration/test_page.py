"""The Axiom page in a real browser: Debian's headless Chromium, through the running Airflow api-server."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORT = os.environ.get("AIRFLOW__API__PORT", "8080")
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


@pytest.fixture(scope="module")
def api_server(dagbag, pg, redis_client, neo4j_driver, chroma_client, tmp_path_factory):
    """The pipelines' data, then a real ``airflow api-server`` on loopback, stopped afterwards."""
    from tests.conftest import wipe
    from tests.integration.test_api import DAGS

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AXIOM_LANDING_DIR", str(tmp_path_factory.mktemp("landing")))
        wipe(pg, redis_client, neo4j_driver, chroma_client)
        for dag_id, conf in DAGS[:3]:
            assert dagbag.dags[dag_id].test(run_conf=conf).state == "success", dag_id
    log = tmp_path_factory.mktemp("api-server") / "api-server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            ["airflow", "api-server"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v2/monitor/health", timeout=2)
                break
            except OSError:
                assert server.poll() is None, log.read_text()[-2000:]
                time.sleep(1)
        else:
            pytest.fail(f"the api-server did not answer within 120 s: {log.read_text()[-2000:]}")
        yield f"http://127.0.0.1:{PORT}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def chromium(*args: str, profile: Path) -> str:
    done = subprocess.run(
        [shutil.which("chromium") or "/usr/bin/chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout


def test_is_aapl_a_buy_on_the_page(api_server, tmp_path):
    url = f"{api_server}/axiom/?question=buy&symbol=AAPL&as_of=2022-06-15"
    dom = chromium("--dump-dom", url, profile=tmp_path / "profile-dom")
    assert 'data-ready="true"' in dom, dom[-3000:]
    verdict = re.search(r'<span class="label (BUY|HOLD|SELL)">', dom)
    assert verdict, "no verdict on screen"
    assert "as of 2022-06-15" in dom
    price = dom[dom.index('id="price"') :]
    assert "<canvas" in price[:3000], "no price chart drawn"
    assert dom.count("<canvas") >= 4  # latency, price, heatmap, graph
    shot = tmp_path / "axiom-page.png"
    chromium(f"--screenshot={shot}", url, profile=tmp_path / "profile-shot")
    assert shot.stat().st_size > 50_000
    print(f"screenshot: {shot}")
