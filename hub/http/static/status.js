/* Simpul status page: reads the admin API with the operator's token; no framework, no build step.
 * Data goes into the DOM only through textContent, never as markup, so nothing from a record, an
 * adapter name or an error message can inject markup. */
"use strict";

const REFRESH_MS = 5000;
const FRESH_S = 6 * 3600;   // keep in step with docs/operations.md
const SILENT_S = 24 * 3600; // and with the SimpulRegionSilent alert (ops/prometheus/simpul-alerts.yml)
const TOKEN_KEY = "simpul-admin-token";

const page = { token: "", role: "", timer: null, busy: false, notice: "" };

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function tokenFromFragment() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const token = params.get("token");
  if (token) {  // keep it out of the address bar and history
    history.replaceState(null, "", location.pathname + location.search);
  }
  return token || "";
}

async function api(method, path) {
  const response = await fetch(path, {
    method,
    headers: { Authorization: "Bearer " + page.token },
    cache: "no-store",
    credentials: "omit",
  });
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const detail = body && body.message ? body.message : response.statusText;
    const error = new Error("HTTP " + response.status + ": " + detail);
    error.status = response.status;
    throw error;
  }
  return body;
}

function say(text) { $("message").textContent = text || ""; }

function formatAge(seconds) {
  if (seconds < 60) return Math.max(0, Math.round(seconds)) + " s";
  if (seconds < 3600) return Math.round(seconds / 60) + " min";
  if (seconds < 48 * 3600) return (seconds / 3600).toFixed(1) + " h";
  return Math.round(seconds / 86400) + " d";
}

function silenceClass(lastRecord, now) {
  if (lastRecord === null || lastRecord === undefined) return "never";
  const age = now - lastRecord;
  if (age < FRESH_S) return "fresh";
  if (age < SILENT_S) return "late";
  return "silent";
}

function renderReadiness(ready) {
  const box = $("readiness");
  box.replaceChildren();
  for (const [name, ok] of Object.entries(ready || {})) {
    box.append(el("span", { class: ok ? "badge-ok" : "badge-down", "data-check": name },
      name + (ok ? " ok" : " DOWN")));
  }
}

function renderAdapters(adapters) {
  const body = $("adapters").tBodies[0];
  body.replaceChildren();
  if (!adapters.length) {
    body.append(el("tr", {}, el("td", { colSpan: 5, class: "muted" }, "no source adapters configured")));
  }
  for (const a of adapters) {
    const actions = el("td", {});
    if (page.role === "act") {
      const action = a.paused ? "resume" : "pause";
      actions.append(el("button", {
        type: "button", class: "adapter-action", "data-adapter": a.name, "data-action": action,
        onclick: () => act(a.name, action),
      }, a.paused ? "Resume" : "Pause"));
    }
    body.append(el("tr", { "data-adapter": a.name, "data-state": a.state },
      el("td", { class: "name" }, a.name),
      el("td", {}, el("span", { class: "state state-" + a.state }, a.state)),
      el("td", { class: "records" }, a.records_offered),
      el("td", { class: "error" }, a.last_error || ""),
      actions));
  }
}

function renderThroughput(rates, totals) {
  const list = $("throughput");
  list.replaceChildren();
  const rows = [["published", "published"], ["quarantined", "quarantined"], ["applied", "sink_applied"]];
  for (const [label, key] of rows) {
    list.append(el("dt", {}, label),
      el("dd", { "data-rate": key }, (rates[key] || 0).toFixed(2) + " /s"),
      el("dd", { class: "muted", "data-total": key }, Math.round(totals[key] || 0) + " total"));
  }
}

function renderQueues(queues) {
  const body = $("queues").tBodies[0];
  body.replaceChildren();
  const names = Object.keys(queues || {}).sort();
  if (!names.length) {
    body.append(el("tr", {}, el("td", { colSpan: 3, class: "muted" }, "no broker figures yet")));
  }
  for (const name of names) {
    body.append(el("tr", { "data-queue": name }, el("td", {}, name),
      el("td", {}, queues[name].messages), el("td", {}, queues[name].consumers)));
  }
}

function renderQuarantine(open, top) {
  $("quarantine-open").textContent = String(open);
  const list = $("quarantine-reasons");
  list.replaceChildren();
  for (const r of top) {
    list.append(el("li", { "data-reason": r.reason }, r.reason + " — " + r.count));
  }
}

function renderProvinces(provinces, now) {
  const grid = $("provinces");
  grid.replaceChildren();
  for (const p of provinces) {
    const state = silenceClass(p.last_record, now);
    const age = p.last_record === null || p.last_record === undefined
      ? "no record yet" : formatAge(now - p.last_record) + " ago";
    const owed = p.reports_missing === null || p.reports_missing === undefined ? null : p.reports_missing;
    const report = owed === null ? "" : (owed === 0 ? "reports complete" : owed + " reports missing");
    grid.append(el("div", {
      class: "tile tile-" + state + (owed ? " tile-owing" : ""), "data-province": p.code,
      "data-silence": state, "data-missing": owed === null ? "" : String(owed), title: p.name,
    }, el("span", { class: "code" }, p.code), el("span", { class: "pname" }, p.name),
       el("span", { class: "age" }, age), el("span", { class: "owed" }, report)));
  }
}

async function refresh() {
  if (!page.token || page.busy) return;
  page.busy = true;
  try {
    if (!page.role) {
      const me = await api("GET", "/v1/admin/whoami");
      page.role = me.role;
      $("role").textContent = me.name + " (" + me.role + ")";
    }
    const o = await api("GET", "/v1/admin/overview");
    $("node-name").textContent = o.node + " · " + o.level;
    renderReadiness(o.ready);
    renderAdapters(o.adapters);
    renderThroughput(o.throughput || {}, o.totals || {});
    renderQueues(o.queues);
    renderQuarantine(o.quarantine_open, o.quarantine_top_reasons || []);
    renderProvinces(o.provinces || [], o.now);
    $("content").hidden = false;
    $("updated").textContent = new Date(o.now * 1000).toLocaleTimeString();
    document.body.setAttribute("data-loaded", "true");
    say(page.notice);  // the outcome of the last action stays; a load error is cleared
  } catch (e) {
    if (e.status === 401) {
      page.role = "";
      $("role").textContent = "";
      sessionStorage.removeItem(TOKEN_KEY);
      $("content").hidden = true;
      say("That token was not accepted (401). Type a valid admin token.");
    } else {
      say("Could not load the status: " + e.message);
    }
  } finally {
    page.busy = false;
  }
}

async function act(name, action) {
  try {
    await api("POST", "/v1/admin/adapters/" + encodeURIComponent(name) + "/" + action);
    page.notice = name + ": " + action + " done";
  } catch (e) {
    page.notice = name + ": " + action + " failed (" + e.message + ")";
  }
  await refresh();
  say(page.notice);
}

function useToken(token) {
  page.token = token;
  page.role = "";
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  if (page.timer) clearInterval(page.timer);
  page.timer = setInterval(refresh, REFRESH_MS);
  return refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    useToken($("token-input").value.trim());
    $("token-input").value = "";
  });
  window.addEventListener("hashchange", () => {  // a new #token=... on an open page
    const fresh = tokenFromFragment();
    if (fresh) useToken(fresh);
  });
  const token = tokenFromFragment() || sessionStorage.getItem(TOKEN_KEY) || "";
  if (token) useToken(token);
  else say("Type an admin token (read role to look, act role to pause and resume adapters).");
});
