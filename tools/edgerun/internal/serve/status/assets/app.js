// The status page's script: refreshes each model's state from
// /status/models.json and sends the "try it" forms to the model's Open
// Inference Protocol infer endpoint. Text only ever goes in with
// textContent: names, labels and answers come from files and clients.
//
// When the server has a bearer token, the HTML is a shell without data
// (main[data-locked]): the script asks for the token, keeps it in the
// tab's sessionStorage, sends it with every request and builds the
// models' cards from /status/models.json.
"use strict";

const POLL_MS = 2000;
const MAX_SHOWN = 64; // values of one output shown in the answer
const TOKEN_KEY = "edgerun-token";

let pageToken = ""; // when sessionStorage is refused (some private modes)

function token() {
  try { return sessionStorage.getItem(TOKEN_KEY) || pageToken; } catch (e) { return pageToken; }
}

function setToken(t) {
  pageToken = t;
  try { sessionStorage.setItem(TOKEN_KEY, t); } catch (e) { /* this page view only */ }
}

// withToken adds the Authorization header to headers when there is a token.
function withToken(headers) {
  const t = token();
  if (t) headers.Authorization = "Bearer " + t;
  return headers;
}

function locked() {
  return document.querySelector("main").dataset.locked === "1";
}

function latency(us) {
  if (!(us > 0)) return "–";
  if (us < 1000) return us + "µs";
  if (us < 1e6) return (us / 1000).toFixed(us < 1e4 ? 2 : 1) + "ms";
  return (us / 1e6).toFixed(2) + "s";
}

function cards() {
  const m = new Map();
  for (const el of document.querySelectorAll("section.model")) m.set(el.dataset.model, el);
  return m;
}

function setField(card, field, text) {
  const el = card.querySelector('[data-field="' + field + '"]');
  if (el && el.textContent !== text) el.textContent = text;
  return el;
}

function update(page) {
  let shown = cards();
  document.getElementById("live").textContent = page.live ? "live" : "not live";
  document.getElementById("ready").textContent = page.ready ? "ready" : "loading";
  const n = page.models.length;
  document.getElementById("count").textContent = n + " model" + (n === 1 ? "" : "s");
  let changed = shown.size !== n || page.models.some((m) => !shown.has(m.name));
  if (changed && locked()) { // no server-rendered cards: build them
    render(page.models);
    shown = cards();
    changed = false;
  }
  for (const m of page.models) {
    const card = shown.get(m.name);
    if (!card) { changed = true; continue; }
    const st = setField(card, "state", m.state);
    st.className = "badge state state-" + m.state.replace(/[^a-z]/g, "");
    setField(card, "kernel", m.kernel || "–");
    setField(card, "weights", m.weights || "–");
    setField(card, "restarts", String(m.restarts));
    setField(card, "requests", String(m.requests));
    setField(card, "p50", latency(m.p50_us));
    setField(card, "p99", latency(m.p99_us));
    const err = setField(card, "error", m.error || "");
    err.hidden = !m.error;
  }
  document.getElementById("changed").hidden = !changed;
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
}

async function refresh() {
  const updated = document.getElementById("updated");
  if (locked() && !token()) {
    updated.textContent = "enter the bearer token to see the models";
    return;
  }
  try {
    const res = await fetch("/status/models.json", { cache: "no-store", headers: withToken({}) });
    if (res.ok) update(await res.json());
    else if (res.status === 401) updated.textContent = "the bearer token is missing or wrong: enter it above";
    else updated.textContent = "refresh failed: HTTP " + res.status;
  } catch (e) {
    updated.textContent = "refresh failed: the server does not answer";
  }
}

async function poll() {
  await refresh();
  setTimeout(poll, POLL_MS);
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// describe renders one output: BYTES as its strings; a classifier's
// scores ([n, len(labels)]) as label=score pairs; others as numbers.
function describe(out, labels) {
  const data = Array.isArray(out.data) ? out.data : [];
  const shape = Array.isArray(out.shape) ? out.shape : [];
  const last = shape.length ? shape[shape.length - 1] : 0;
  const line = el("li");
  line.append(el("span", "label", out.name + ": "));
  if (out.datatype !== "BYTES" && labels.length > 1 && last === labels.length && data.length % last === 0) {
    const rows = [];
    for (let r = 0; r < data.length && r < MAX_SHOWN; r += last) {
      rows.push(labels.map((l, i) => l + " " + Number(data[r + i]).toPrecision(3)).join(", "));
    }
    line.append(el("span", "value", rows.join(" | ")));
  } else {
    const vals = data.slice(0, MAX_SHOWN).map(String);
    line.append(el("span", "value", vals.join(", ") + (data.length > MAX_SHOWN ? ", …" : "")));
  }
  return line;
}

function verdictOf(outputs) {
  const bytes = outputs.filter((o) => o.datatype === "BYTES" && Array.isArray(o.data) && o.data.length);
  const pick = bytes.find((o) => o.name === "label") || bytes[0];
  return pick ? String(pick.data[0]) : "";
}

// render replaces the cards with one per model, as the server renders
// them when the page is not locked.
function render(models) {
  const main = document.querySelector("main");
  main.replaceChildren();
  if (!models.length) { main.append(el("p", "", "No model is served.")); return; }
  for (const m of models) main.append(buildCard(m));
}

function buildCard(m) {
  const sec = el("section", "model");
  sec.dataset.model = m.name;
  const field = (e, name) => { e.dataset.field = name; return e; };
  const h = el("h2");
  h.append(el("span", "name", m.name), " ", el("span", "version", m.version), " ",
    field(el("span", "badge state state-" + m.state.replace(/[^a-z]/g, ""), m.state), "state"));
  sec.append(h);
  if (m.summary) sec.append(el("p", "summary", m.summary));
  const err = field(el("p", "error", m.error || ""), "error");
  err.hidden = !m.error;
  sec.append(err);
  const facts = el("dl", "facts");
  const fact = (name, text, f) => {
    const dd = el("dd", "", text);
    if (f) field(dd, f);
    facts.append(el("dt", "", name), dd);
  };
  fact("platform", m.platform);
  fact("kernel", m.kernel || "–", "kernel");
  fact("weights", m.weights || "–", "weights");
  fact("versions", m.versions.join(", "));
  fact("restarts", String(m.restarts), "restarts");
  fact("requests (1 min)", String(m.requests), "requests");
  fact("p50", latency(m.p50_us), "p50");
  fact("p99", latency(m.p99_us), "p99");
  sec.append(facts);
  const table = el("table", "tensors");
  const head = el("tr");
  for (const t of ["", "name", "datatype", "shape"]) head.append(el("th", "", t));
  const thead = el("thead");
  thead.append(head);
  table.append(thead);
  const body = el("tbody");
  const row = (kind, t) => {
    const tr = el("tr");
    const name = el("td", "", t.name);
    if (t.optional) name.append(" ", el("em", "", "(optional)"));
    const shape = el("td", "", JSON.stringify(t.shape));
    if (t.categories && t.categories.length) shape.append(" ", el("span", "categories", "one of " + t.categories.join(", ")));
    tr.append(el("td", "", kind), name, el("td", "", t.datatype), shape);
    body.append(tr);
  };
  for (const t of m.inputs) row("input", t);
  for (const t of m.outputs) row("output", t);
  table.append(body);
  sec.append(table);
  if (m.labels.length) {
    const p = el("p", "labels", "labels: ");
    m.labels.forEach((l, i) => { if (i) p.append(", "); p.append(el("span", "label", l)); });
    sec.append(p);
  }
  if (m.form === "text" || m.form === "json") {
    const form = el("form", "try");
    form.dataset.form = m.form;
    const label = el("label", "", m.form === "text" ? "Try it: " : "Try it (an Open Inference Protocol request): ");
    const area = el("textarea");
    if (m.form === "text") {
      area.name = "text"; area.rows = 3; area.placeholder = "Type a text, e.g. a review";
    } else {
      area.name = "body"; area.rows = 8; area.spellcheck = false; area.value = m.example || "";
    }
    label.append(area);
    const button = el("button", "", "Infer");
    button.type = "submit";
    const answer = el("div", "answer");
    answer.setAttribute("aria-live", "polite");
    form.append(label, button, answer);
    form.addEventListener("submit", (ev) => infer(form, ev));
    sec.append(form);
  }
  return sec;
}

function labelsOf(card) {
  return Array.from(card.querySelectorAll(".labels .label"), (e) => e.textContent);
}

async function infer(form, ev) {
  ev.preventDefault();
  const card = form.closest("section.model");
  const answer = form.querySelector(".answer");
  const button = form.querySelector("button");
  answer.replaceChildren();
  let body;
  if (form.dataset.form === "text") {
    const text = form.elements.text.value;
    if (!text.trim()) { answer.append(el("p", "fail", "Type a text first.")); return; }
    body = JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [text] }] });
  } else {
    body = form.elements.body.value;
    try { JSON.parse(body); } catch (e) {
      answer.append(el("p", "fail", "Not JSON: " + e.message));
      return;
    }
  }
  button.disabled = true;
  try {
    const url = "/v2/models/" + encodeURIComponent(card.dataset.model) + "/infer";
    const res = await fetch(url, { method: "POST", headers: withToken({ "Content-Type": "application/json" }), body });
    const text = await res.text();
    let doc = null;
    try { doc = JSON.parse(text); } catch (e) { /* shown raw below */ }
    if (!res.ok) {
      const msg = doc && typeof doc.error === "string" ? doc.error : text;
      answer.append(el("p", "fail", "HTTP " + res.status + ": " + msg));
      return;
    }
    if (!doc || !Array.isArray(doc.outputs)) {
      answer.append(el("p", "fail", "Not an inference response: " + text.slice(0, 200)));
      return;
    }
    const verdict = verdictOf(doc.outputs);
    if (verdict) answer.append(el("p", "verdict", verdict));
    const list = el("ul", "outputs");
    for (const o of doc.outputs) list.append(describe(o, labelsOf(card)));
    answer.append(list);
    const raw = el("details");
    raw.append(el("summary", "", "response"), el("pre", "", JSON.stringify(doc, null, 2)));
    answer.append(raw);
  } catch (e) {
    answer.append(el("p", "fail", "The request failed: " + e.message));
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.try")) form.addEventListener("submit", (ev) => infer(form, ev));
  const tokenForm = document.getElementById("token");
  if (tokenForm) {
    tokenForm.addEventListener("submit", (ev) => {
      ev.preventDefault();
      setToken(tokenForm.elements.token.value.trim());
      tokenForm.elements.token.value = "";
      refresh();
    });
  }
  if (locked()) poll(); // at once: nothing is shown yet
  else setTimeout(poll, POLL_MS);
});
