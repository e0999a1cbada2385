// The status page's script: refreshes each model's state from
// /status/models.json and sends the "try it" forms to the model's Open
// Inference Protocol infer endpoint. Text only ever goes in with
// textContent: names, labels and answers come from files and clients.
"use strict";

const POLL_MS = 2000;
const MAX_SHOWN = 64; // values of one output shown in the answer

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
  const shown = cards();
  document.getElementById("live").textContent = page.live ? "live" : "not live";
  document.getElementById("ready").textContent = page.ready ? "ready" : "loading";
  let changed = shown.size !== page.models.length;
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

async function poll() {
  try {
    const res = await fetch("/status/models.json", { cache: "no-store" });
    if (res.ok) update(await res.json());
    else document.getElementById("updated").textContent = "refresh failed: HTTP " + res.status;
  } catch (e) {
    document.getElementById("updated").textContent = "refresh failed: the server does not answer";
  }
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
    const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body });
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
  setTimeout(poll, POLL_MS);
});
