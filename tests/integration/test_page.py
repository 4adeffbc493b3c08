"""The Axiom page in a real browser: Debian's headless Chromium, through the running Airflow api-server."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.support import CHROMIUM_FLAGS, DAGS, DevTools, airflow_components, load_stores


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
    url = f"{api_server}/axiom/?question=buy&symbol=AAPL&as_of=2022-06-15&live=0"  # an open stream never idles
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


# Markup that would become elements if the page put it into HTML unescaped: in text, or in an attribute
MARKUP = '"><img data-planted="element" src="x" onerror="window.planted_ran = true"><b data-planted="tag" title="'
SEEN = """
window.planted_seen = 0;
new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach((n) => {
  if (n.nodeType === 1) window.planted_seen +=
    n.querySelectorAll("[data-planted]").length + n.matches("[data-planted]");
}))).observe(document, {childList: true, subtree: true});
"""
# every tooltip each chart can show, through ECharts' own action, and the text it showed
TOOLTIPS = """
(() => {
  const shown = [];
  for (const el of document.querySelectorAll(".chart")) {
    const chart = echarts.getInstanceByDom(el);
    (chart?.getOption().series || []).forEach((series, s) => (series.data || []).slice(0, 40).forEach((_, i) => {
      chart.dispatchAction({type: "showTip", seriesIndex: s, dataIndex: i});
      shown.push(el.innerText);
    }));
  }
  return shown;
})()
"""


def planted(value, keep: frozenset = frozenset()):
    """The answer with MARKUP in every text field but those in ``keep`` (what the page puts in its URLs)."""
    if isinstance(value, str):
        return MARKUP
    if isinstance(value, dict):
        return {k: v if k in keep else planted(v, keep) for k, v in value.items()}
    if isinstance(value, list):
        return [planted(v, keep) for v in value]
    return value


@pytest.mark.parametrize(
    ("question", "keep"),
    [
        # the page reads the symbol's prices by the subject, and its analogues from the chroma evidence
        ("buy/AAPL?as_of=2022-06-10", {"question", "as_of", "subject", "store"}),
        ("rotation?as_of=2022-12-28", {"question", "as_of"}),
    ],
)
def test_markup_in_every_text_field_of_an_answer_stays_text(api_server, redis_client, tmp_path, question, keep):
    import json
    import urllib.request

    from axiom.stores import cache

    with urllib.request.urlopen(f"{api_server}/axiom/api/questions/{question}", timeout=120) as response:
        asked = json.load(response)  # computed and kept in Redis, where the page will read it back
    kept = {key: json.loads(redis_client.get(key)) for key in redis_client.scan_iter(cache.insight_key("*"))}
    [(key, body)] = [(k, b) for k, b in kept.items() if all(b[f] == asked[f] for f in ("question", "subject", "as_of"))]
    redis_client.set(key, json.dumps(planted(body, frozenset(keep))), ex=600)

    browser = DevTools(tmp_path / "profile")
    try:
        browser.call("Page.addScriptToEvaluateOnNewDocument", source=SEEN)
        path, _, query = question.partition("?")
        subject = f"&symbol={path.split('/')[1]}" if "/" in path else ""
        browser.call("Page.navigate", url=f"{api_server}/axiom/?question={path.split('/')[0]}&{query}{subject}")
        for _ in range(120):
            if (ready := browser.evaluate("document.body && document.body.dataset.ready")) in ("true", "error"):
                break
            time.sleep(0.5)
        assert ready == "true", browser.evaluate("document.getElementById('message').textContent")
        tooltips = browser.evaluate(TOOLTIPS)
        text = browser.evaluate("document.body.innerText")
        found = browser.evaluate(
            "({elements: document.querySelectorAll('[data-planted]').length, seen: window.planted_seen,"
            " ran: window.planted_ran || false})"
        )
    finally:
        browser.close()
    assert found == {"elements": 0, "seen": 0, "ran": False}
    assert text.count('<img data-planted="element"') >= 5  # the planted answer is on screen, as text
    assert any('<img data-planted="element"' in shown for shown in tooltips)  # and in the charts' tooltips
