// The Axiom page: ask a question, then draw the answer, its evidence, the price, correlations and the graph.
// Every URL is relative to the page, so it works under any prefix or proxy. Everything an answer carries is
// data, never markup: each value put into HTML (innerHTML, attributes, ECharts tooltip formatters) goes
// through escape(), numbers through fixed(); everything else is set as textContent or drawn on a canvas.
"use strict";

const form = document.getElementById("ask");
const say = (text) => { document.getElementById("message").textContent = text; };
const escape = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
const fixed = (value, digits) => Number(value).toFixed(digits);
const charts = {};
const chart = (id) => (charts[id] ||= echarts.init(document.getElementById(id), null, {renderer: "canvas"}));
window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));

async function get(url) {
  const response = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}});
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail;
    throw new Error(detail || `${response.status} ${response.statusText}`);
  }
  return body;
}

function questionUrl({question, symbol, event, as_of}) {
  const query = new URLSearchParams();
  if (as_of) query.set("as_of", as_of);
  if (question === "cascade" && event) query.set("event", event);
  const path = ["buy", "like"].includes(question) ? `${question}/${encodeURIComponent(symbol)}` : question;
  return `api/questions/${path}${query.size ? "?" + query : ""}`;
}

function showFields() {
  const q = form.question.value;
  document.querySelector(".for-symbol").hidden = !["buy", "like"].includes(q);
  document.querySelector(".for-event").hidden = q !== "cascade";
}

function drawAnswer(insight) {
  const v = insight.verdict;
  document.getElementById("verdict").innerHTML =
    `<span class="label ${escape(v.label)}">${escape(v.label)}</span> ${escape(insight.subject)}` +
    `<small>as of ${escape(insight.as_of)} · confidence ${fixed(v.confidence, 2)} · ${escape(insight.analyst)}` +
    `${insight.cached ? " · a cache hit (" + escape(insight.cached) + ")" : ""} · ${fixed(insight.total_ms, 0)} ms</small>`;
  document.getElementById("reasons").innerHTML = v.reasons.map((r) => `<li>${escape(r)}</li>`).join("");
  document.getElementById("notes").innerHTML = insight.notes.map((n) => `<li>${escape(n)}</li>`).join("");
  document.getElementById("ranking").innerHTML = v.ranking.map((r, i) =>
    `<tr><td>${i + 1}</td><th>${escape(r.name)}</th><td class="num">${fixed(r.score, 4)}</td><td>${escape(r.reason)}</td></tr>`).join("");
  document.getElementById("evidence").innerHTML = "<tr><th>store</th><th>what</th><th>ms</th></tr>" +
    insight.evidence.map((e) => `<tr title="${escape(e.query)}"><td><span class="store ${escape(e.store)}">${escape(e.store)}</span></td>` +
      `<td>${escape(e.what)}</td><td class="num">${fixed(e.latency_ms, 1)}</td></tr>`).join("");
  const stores = Object.keys(insight.latency_by_store);
  chart("latency").setOption({
    grid: {left: 70, right: 30, top: 10, bottom: 20},
    xAxis: {type: "value", name: "ms"}, yAxis: {type: "category", data: stores},
    series: [{type: "bar", data: stores.map((s) => insight.latency_by_store[s]), label: {show: true, position: "right"}}],
  }, true);
}

async function drawPrice(insight, symbol) {
  const title = document.getElementById("price-title");
  if (!symbol) {  // rotation and cascade: the ranking as bars
    title.textContent = insight.question === "rotation" ? "Sector rotation scores" : "Exposure (mean fall after past hikes)";
    const rows = insight.verdict.ranking;
    chart("price").setOption({
      grid: {left: 160, right: 30, top: 10, bottom: 30}, tooltip: {formatter: (p) => `${escape(p.name)}: ${fixed(p.value, 4)}`},
      xAxis: {type: "value"}, yAxis: {type: "category", data: rows.map((r) => r.name).reverse()},
      series: [{type: "bar", data: rows.map((r) => r.score).reverse()}],
    }, true);
    return;
  }
  const series = await get(`api/prices/${encodeURIComponent(symbol)}?as_of=${encodeURIComponent(insight.as_of)}&sessions=250`);
  const last = series.closes[series.closes.length - 1];
  const analogues = (insight.evidence.find((e) => e.store === "chroma" && Array.isArray(e.facts)) || {facts: []}).facts
    .filter((a) => a.forward_return !== undefined);
  const horizon = `+${insight.params.horizon || 20} sessions`;
  const categories = analogues.length ? [...series.dates, horizon] : series.dates;
  title.textContent = `${symbol} to ${series.as_of}` + (analogues.length ? ` · what followed ${analogues.length} similar past windows` : "");
  chart("price").setOption({
    // one tooltip per session (an axis tooltip: the series' own tooltip options would never be used)
    tooltip: {trigger: "axis", formatter: (points) => points.map((p) => escape(p.seriesIndex ? p.name : `${p.name}: close ${p.value}`)).join("<br>")},
    legend: {top: 0},
    grid: {left: 60, right: 30, top: 30, bottom: 40},
    xAxis: {type: "category", data: categories}, yAxis: {type: "value", scale: true},
    series: [
      {name: "close", type: "line", showSymbol: false, data: series.closes},
      {name: "analogues' outcomes", type: "scatter", symbolSize: 9,
       data: analogues.map((a) => ({value: [horizon, +(last * (1 + a.forward_return)).toFixed(2)],
                                    name: `${a.symbol} to ${a.window_end}: ${(100 * a.forward_return).toFixed(1)}%`}))},
    ],
  }, true);
}

async function drawHeatmap(asOf) {
  const m = await get(`api/correlations?as_of=${encodeURIComponent(asOf)}`);
  const data = [];
  m.coefficients.forEach((row, i) => row.forEach((v, j) => data.push([j, i, v])));
  chart("heatmap").setOption({
    tooltip: {formatter: (p) => `${escape(m.symbols[p.value[1]])} / ${escape(m.symbols[p.value[0]])}: ${escape(p.value[2])}`},
    grid: {left: 50, right: 20, top: 10, bottom: 70},
    xAxis: {type: "category", data: m.symbols, axisLabel: {rotate: 90}}, yAxis: {type: "category", data: m.symbols},
    visualMap: {min: -1, max: 1, calculable: true, orient: "horizontal", left: "center", bottom: 0,
                inRange: {color: ["#2166ac", "#f7f7f7", "#b2182b"]}, itemHeight: 120},
    series: [{type: "heatmap", data}],
  }, true);
}

async function drawGraph(symbol, asOf) {
  const card = document.getElementById("graph-card");
  card.hidden = !symbol;
  if (!symbol) return;
  const g = await get(`api/graph/${encodeURIComponent(symbol)}?as_of=${encodeURIComponent(asOf)}`);
  const kinds = ["company", "sector", "stock", "event"];
  chart("graph").setOption({
    tooltip: {formatter: (p) => escape(p.data.label || p.data.kind || "")}, legend: {data: kinds, top: 0},
    series: [{
      type: "graph", layout: "force", roam: true, draggable: true, force: {repulsion: 260, edgeLength: 90},
      categories: kinds.map((name) => ({name})),
      label: {show: true, formatter: (p) => (p.data.kind === "event" ? p.data.date : p.data.label)},
      data: g.nodes.map((n) => ({...n, name: n.id, category: kinds.indexOf(n.kind), symbolSize: n.id === symbol ? 42 : 24})),
      links: g.edges.map((e) => ({source: e.source, target: e.target, label: {show: false}, value: e.kind,
                                  lineStyle: {width: 1 + 3 * Math.abs(e.weight || 0)}})),
    }],
  }, true);
}

async function run(event) {
  event?.preventDefault();
  const q = Object.fromEntries(new FormData(form));
  q.symbol = (q.symbol || "").trim().toUpperCase();
  history.replaceState(null, "", "?" + new URLSearchParams(Object.entries(q).filter(([, v]) => v)));
  say("Asking all four stores…");
  document.body.dataset.ready = "false";
  try {
    const insight = await get(questionUrl(q));
    document.getElementById("answer").hidden = false;
    drawAnswer(insight);
    const symbol = ["buy", "like"].includes(insight.question) ? insight.subject : null;
    await Promise.all([drawPrice(insight, symbol), drawHeatmap(insight.as_of), drawGraph(symbol, insight.as_of)]);
    say("");
    document.body.dataset.ready = "true";
  } catch (error) {
    say(error.message);
    document.body.dataset.ready = "error";
  }
}

form.addEventListener("submit", run);
form.question.addEventListener("change", showFields);
const params = new URLSearchParams(location.search);
for (const name of ["question", "symbol", "event", "as_of"]) if (params.get(name)) form[name].value = params.get(name);
showFields();
if (params.get("question")) run();

// The live panel: Server-Sent Events from api/live (same origin, same authentication as the API). A
// "snapshot" event redraws the newest session, the prices and the replay's state; an "alert" event adds the
// alert with its pair's spread chart. EventSource reconnects by itself after a dropped stream, sending the
// last event id, so nothing is missed or repeated; after a refusal (a 503: too many streams, a store down) it
// gives up, and this client opens a new one later, resuming after the last event it received.
const live = {received: [], shown: new Set(), last: "", retry: 1000, source: null, charts: new Map(), opens: 0};
window.axiomLive = live;  // what a test (or a curious user) can read: every alert id received, in order; connections
const LIVE_KEEP = 50;  // alerts kept on screen

function liveState(state, text) {
  const badge = document.getElementById("live-state");
  badge.dataset.state = state;
  badge.textContent = text;
  document.body.dataset.live = state;
}

const percent = (value) => (value === null || value === undefined ? "" : `${value >= 0 ? "+" : ""}${fixed(100 * value, 2)}%`);

function drawSnapshot(s) {
  const r = s.replay;
  document.getElementById("live-session").innerHTML = s.session
    ? `Newest session <b>${escape(s.session)}</b>` +
      (r ? ` · replay ${escape(r.replay_id)} <b>${escape(r.state)}</b>, clock ${escape(r.clock || "not started")}` +
           ` (${escape(r.first_session)} to ${escape(r.last_session)})${r.message ? " · " + escape(r.message) : ""}` : "")
    : "No session in the ledger yet.";
  document.getElementById("live-prices").innerHTML = s.prices.map((p) =>
    `<span class="tile ${escape(p.source)}" data-symbol="${escape(p.symbol)}" title="${escape(p.source)}: close of ${escape(p.session)}` +
    `${p.previous_session ? "; change against " + escape(p.previous_session) : ""}"><b>${escape(p.symbol)}</b>${fixed(p.close, 2)} ` +
    `<span class="${p.change >= 0 ? "up" : "down"}">${escape(percent(p.change))}</span></span>`).join("");
  document.body.dataset.liveSession = s.session || "";
}

function drawAlert(alert) {
  const s = alert.signal;
  const list = document.getElementById("live-alerts");
  const item = document.createElement("li");
  item.dataset.signal = alert.id;
  item.className = "fresh";
  setTimeout(() => item.classList.remove("fresh"), 10000);
  const title = document.createElement("div");
  title.innerHTML = `<b>${escape(s.session)} ${escape(s.a)} / ${escape(s.b)}</b> z ${fixed(s.z, 2)} · r ${fixed(s.coefficient, 2)}` +
    ` · ${escape(s.moved)} moved (${escape(percent(s.return_a))} / ${escape(percent(s.return_b))})`;
  const trade = Object.assign(document.createElement("div"), {className: "muted", textContent: s.trade});
  const record = Object.assign(document.createElement("div"), {className: "muted record", textContent: s.stats?.record_words || ""});
  const plot = Object.assign(document.createElement("div"), {className: "chart spread"});
  item.append(title, trade, record, plot);
  list.prepend(item);
  document.getElementById("live-none").hidden = true;
  const spread = alert.spread;  // none when the entry's spread could not be drawn
  if (!spread) plot.remove();
  else {
    const c = echarts.init(plot, null, {renderer: "canvas"});
    c.setOption({
      title: {text: `ln ${spread.a} − ${fixed(spread.beta, 2)} ln ${spread.b}, last ${spread.values.length} sessions`,
              textStyle: {fontSize: 11, fontWeight: 400}},
      tooltip: {trigger: "axis", formatter: (points) => points.map((p) => `${escape(p.name)}: ${fixed(p.value, 4)}`).join("<br>")},
      grid: {left: 50, right: 12, top: 28, bottom: 22},
      xAxis: {type: "category", data: spread.dates}, yAxis: {type: "value", scale: true},
      series: [{type: "line", showSymbol: false, data: spread.values,
                markPoint: {symbolSize: 30, data: spread.values.length ? [{coord: [spread.dates.length - 1, spread.values.at(-1)], value: "z"}] : []}}],
    });
    live.charts.set(item, c);
  }
  while (list.children.length > LIVE_KEEP) {
    const old = list.lastElementChild;
    live.charts.get(old)?.dispose();
    live.charts.delete(old);
    old.remove();
  }
}

function connectLive() {
  const source = new EventSource(`api/live${live.last ? "?after=" + encodeURIComponent(live.last) : ""}`);
  live.source = source;
  liveState("connecting", "connecting…");
  const track = (event) => { if (event.lastEventId) live.last = event.lastEventId; };
  source.onopen = () => { live.opens += 1; live.retry = 1000; liveState("open", "live"); };
  source.addEventListener("snapshot", (event) => { track(event); drawSnapshot(JSON.parse(event.data)); });
  source.addEventListener("alert", (event) => {
    track(event);
    const alert = JSON.parse(event.data);
    live.received.push(alert.id);
    if (live.shown.has(alert.id)) return;
    live.shown.add(alert.id);
    drawAlert(alert);
  });
  source.addEventListener("unavailable", (event) => {
    liveState("unavailable", `${JSON.parse(event.data).store} unavailable; reconnecting…`);
  });
  source.onerror = () => {
    if (source.readyState !== EventSource.CLOSED) {
      liveState("connecting", "reconnecting…");
      return;
    }
    liveState("closed", `disconnected; trying again in ${Math.round(live.retry / 1000)} s`);
    setTimeout(connectLive, live.retry);
    live.retry = Math.min(2 * live.retry, 30000);
  };
}

window.addEventListener("resize", () => live.charts.forEach((c) => c.resize()));
if (params.get("live") === "0") liveState("off", "off (live=0 in the address)");  // a still page: screenshots
else if (window.EventSource) connectLive();
else liveState("closed", "this browser has no EventSource: no live updates");

// The newest evaluation's charts, drawn by the api-server from the ledger; a 404 means none has run yet.
for (const kind of ["buy", "divergence"]) {
  const img = document.getElementById(`evaluation-${kind}`);
  img.onerror = () => { img.hidden = true; document.getElementById("evaluation-none").hidden = false; };
  img.src = `api/evaluation/${kind}.png`;
}
