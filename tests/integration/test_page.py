"""The Axiom page in a real browser: Debian's headless Chromium, through the running Airflow api-server."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import DAGS, airflow_components, load_stores

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
    load_stores(dagbag, DAGS[:3], pg=pg, redis_client=redis_client, neo4j_driver=neo4j_driver,
                chroma_client=chroma_client, landing=tmp_path_factory.mktemp("landing"))  # fmt: skip
    with airflow_components("api-server", logs=tmp_path_factory.mktemp("airflow")) as url:
        yield url


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
