// The Simpul workbench: six steps over the JSON API under ./api/ (no framework, no build step).
// State lives in this page only; the sample stays in the browser's memory and is sent with each call.
"use strict";

const T = {
  id: {},
  en: {
    title: "Simpul workbench", lead: "Connect a regional system by configuration alone, step by step.",
    switch: "Bahasa Indonesia", steps: "Steps", s1: "Kind and schema", s2: "Sample", s3: "As read",
    s4: "Mapping", s5: "Records", s6: "Download",
    s1long: "1. Source kind, target schema and office", kind: "Source kind", schema: "Target schema",
    office: "Office (name or kode wilayah)", fields: "Schema fields", f_field: "Field", f_type: "Content",
    f_req: "Required", f_pii: "Personal data", f_desc: "Description",
    k_file_drop: "Files (CSV/XLSX) in a folder", k_soap: "SOAP service", k_rest_poll: "REST API (JSON)",
    k_sql_poll: "Database (PostgreSQL/MariaDB)", k_webhook: "Webhook (JSON pushes)", k_amqp_source: "Message queue (AMQP)",
    s2long: "2. Give a sample", from: "Sample from", m_file: "Upload a file", m_live: "Live source",
    file: "Sample file (CSV, XLSX, XML, JSON, NDJSON; at most 10 MB)", url: "Address (URL)",
    hname: "Auth header name (may be empty)", hvalue: "Auth header value", action: "SOAPAction (may be empty)",
    envelope: "SOAP request envelope", dsn: "Database DSN (postgresql://user@host/db)",
    query: "SELECT query (at most 50 rows are read)", readbtn: "Read the sample",
    s3long: "3. The sample as the adapter reads it", headers: "Header rows", skipped: "Skipped rows",
    where: "Where", why: "Why", table: "Table",
    s4long: "4. Proposed mapping (form and TOML always agree)", source: "Source", rule: "Rule",
    conf: "Confidence", toml: "Source block (TOML)",
    s5long: "5. Every record mapped as the node would", s6long: "6. Download, ready to commit",
    dlblock: "Download the source block (.toml)", dlconfig: "Download the node config (.toml)",
    dlsample: "Download the test sample", next: "Check with: simpul check-config FILE, then run: simpul run --config FILE",
    back: "← Back", nextbtn: "Next →", preview: "Node config", reread: "Read again",
    readopt_hint: "Leave empty to let the adapter guess.", o_record_path: "Record element path (record_path)",
    o_data_path: "Where the record list is (data_path)", o_header_row: "Header row number (header_row)",
    yes: "yes", no: "no", none: "no", personal: "personal", specific: "specific personal (UU 27/2022)",
    t_text: "text", t_date: "date", t_datetime: "date and time", t_int: "whole number", t_number: "number",
    t_money: "rupiah amount", t_bool: "yes/no", t_region: "kode wilayah", t_regions: "list of kode wilayah",
    t_nik: "NIK (stored as a token)", t_passport: "passport number (stored as a token)",
    t_country: "country code", t_choice: "one of", t_list: "list of items",
    read_n: "{n} row(s) read, {s} skipped.", header_at: "{sheet}rows {rows}: {cols}",
    w_title: "title", w_blank: "blank", w_header: "column header", w_total: "total", w_signature: "signature",
    w_after_footer: "after the footer", w_after_end: "after the end of the table", w_footer: "total",
    skipped_rows: "Skipped: ",
    r_: "copy as text", r_date: "date", r_datetime: "date and time", r_int: "whole number", r_decimal: "number",
    r_rupiah: "rupiah", r_bool: "yes/no", r_phone: "phone", r_nik: "NIK → token", r_passport: "passport → token",
    r_redact: "free text, NIK/phone hidden", r_lower: "lower case", r_upper: "upper case", r_title: "Title Case",
    r_const: "fixed value", r_region_code: "region code", r_region_provinsi: "region: provinsi name",
    r_region_kabkota: "region: kab/kota name", r_region_kecamatan: "region: kecamatan name",
    r_region_desa: "region: desa/kelurahan name", r_custom: "custom (edit in TOML)",
    edited: "edited by hand", todo: "TODO", counts: "{ok} ok · {q} quarantined · {s} skipped",
    reasons: "Quarantine reasons: ", valid: "Valid: simpul check-config accepts this config.",
    invalid: "Not valid yet:", working: "Working…", done: "Done.", choose_office: "Choose the office from the list.",
    need_sample: "Choose a file first.", payload: "payload", issues: "issues",
  },
};
// Bahasa Indonesia: the page's own texts, plus these for dynamic ones.
Object.assign(T.id, {
  yes: "ya", no: "tidak", none: "bukan", personal: "data pribadi", specific: "data pribadi spesifik (UU 27/2022)",
  t_text: "teks", t_date: "tanggal", t_datetime: "tanggal dan jam", t_int: "bilangan bulat", t_number: "angka",
  t_money: "nilai rupiah", t_bool: "ya/tidak", t_region: "kode wilayah", t_regions: "daftar kode wilayah",
  t_nik: "NIK (disimpan sebagai token)", t_passport: "nomor paspor (disimpan sebagai token)",
  t_country: "kode negara", t_choice: "salah satu dari", t_list: "daftar isian",
  read_n: "{n} baris terbaca, {s} dilewati.", header_at: "{sheet}baris {rows}: {cols}",
  w_title: "judul", w_blank: "kosong", w_header: "judul kolom", w_total: "jumlah/total",
  w_signature: "tanda tangan", w_after_footer: "setelah penutup", w_after_end: "setelah akhir tabel",
  w_footer: "jumlah/total", skipped_rows: "Dilewati: ",
  r_: "salin sebagai teks", r_date: "tanggal", r_datetime: "tanggal dan jam", r_int: "bilangan bulat",
  r_decimal: "angka", r_rupiah: "rupiah", r_bool: "ya/tidak", r_phone: "telepon", r_nik: "NIK → token",
  r_passport: "paspor → token", r_redact: "teks bebas, NIK/telepon disamarkan", r_lower: "huruf kecil",
  r_upper: "huruf besar", r_title: "Huruf Judul", r_const: "nilai tetap", r_region_code: "kode wilayah",
  r_region_provinsi: "wilayah: nama provinsi", r_region_kabkota: "wilayah: nama kab/kota",
  r_region_kecamatan: "wilayah: nama kecamatan", r_region_desa: "wilayah: nama desa/kelurahan",
  r_custom: "khusus (ubah di TOML)", edited: "diubah manual", todo: "TODO",
  counts: "{ok} sesuai · {q} karantina · {s} dilewati", reasons: "Alasan karantina: ",
  valid: "Sah: simpul check-config menerima konfigurasi ini.", invalid: "Belum sah:", working: "Sedang bekerja…",
  done: "Selesai.", choose_office: "Pilih kantor dari daftar.", need_sample: "Pilih berkas dulu.",
  payload: "muatan", issues: "masalah", o_record_path: "Jalur elemen rekaman (record_path)",
  o_data_path: "Letak daftar rekaman (data_path)", o_header_row: "Nomor baris judul kolom (header_row)",
});
// The one adapter setting a sample's reading most often needs, per kind (the rest is in the TOML).
const READ_OPTION = { file_drop: "header_row", soap: "record_path", rest_poll: "data_path", webhook: "data_path",
  amqp_source: "data_path" };
const RULES = ["", "date", "datetime", "int", "decimal", "rupiah", "bool", "phone", "nik", "passport", "redact",
  "lower", "upper", "title", "const", "region_code", "region_provinsi", "region_kabkota", "region_kecamatan",
  "region_desa", "custom"];

const $ = (sel) => document.querySelector(sel);
const S = { lang: "id", step: 1, token: null, schema: null, office: null, sample: null, sampleName: "", options: {},
  readResult: null, fields: [], proposal: {}, toml: "", test: null, proposedFor: "", seq: 0 };
const base = new URL(".", location.href);

function t(key, vars) {
  const own = S.lang === "id" ? (T.id[key] ?? ORIGINAL[key]) : T.en[key];
  let text = own ?? T.en[key] ?? key;
  for (const [k, v] of Object.entries(vars || {})) text = text.replace(`{${k}}`, v);
  return text;
}
const ORIGINAL = {};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
}

async function api(path, { json, form, raw } = {}) {
  const headers = {};
  if (S.token) headers.Authorization = `Bearer ${S.token}`;
  let body;
  if (json) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form) body = form;
  const response = await fetch(new URL(`api/${path}`, base), { method: body ? "POST" : "GET", headers, body });
  if (raw && response.ok) return response;
  const data = await response.json().catch(() => ({ error: "bad_answer", message: `HTTP ${response.status}` }));
  if (!response.ok) throw Object.assign(new Error(data.message || "error"), { field: data.field, status: response.status });
  return data;
}

function say(text) { $("#status").textContent = text; }
function showError(field, message) {
  document.querySelectorAll(".error[role=alert]").forEach((p) => { if (!p.closest("#step-4")) p.textContent = ""; });
  const ids = { url: "url-err", envelope: "envelope-err", dsn: "dsn-err", query: "query-err", office: "office-err",
    toml: "toml-err", sample: S.step === 3 ? "readopt-err" : "sample-err", record_path: "readopt-err",
    options: "readopt-err", config: "readopt-err", kind: "sample-err" };
  const target = document.getElementById(ids[field] || `${field}-err`) || $("#sample-err");
  target.textContent = message;
  say(message);
}

// --- language ---
function applyLanguage() {
  document.documentElement.lang = S.lang;
  document.querySelectorAll("[data-i18n]").forEach((node) => {
    const key = node.dataset.i18n;
    if (!(key in ORIGINAL)) ORIGINAL[key] = node.textContent;
    node.textContent = S.lang === "id" ? ORIGINAL[key] : (T.en[key] ?? ORIGINAL[key]);
  });
  renderSchema(); renderRead(); renderMapping(); renderTest();
}

// --- steps and history ---
function show(step, push = true) {
  S.step = step;
  for (let i = 1; i <= 6; i++) $(`#step-${i}`).hidden = i !== step;
  document.querySelectorAll("#stepnav button").forEach((b) => {
    if (Number(b.dataset.goto) === step) b.setAttribute("aria-current", "step"); else b.removeAttribute("aria-current");
  });
  $("#back").disabled = step === 1;
  $("#next").disabled = step === 6;
  if (push) history.pushState({ step }, "", `#langkah-${step}`);
  $(`#step-${step} h2`).focus();
  if (step === 4) ensureProposal();
  if (step === 5) runTest();
  if (step === 6) checkConfig();
}

async function go(step) {
  if (step >= 2 && !S.office) { show(1); showError("office", t("choose_office")); return; }
  if (step >= 3 && !S.readResult) { if (S.step !== 2) show(2); if (!(await readSample())) return; }
  show(step);
}

// --- step 1 ---
async function loadSchemas() {
  const list = await api("schemas");
  const select = $("#schema");
  for (const s of list) select.append(el("option", { value: s.name }, `${s.title_id || s.title} (${s.name})`));
  select.value = list.some((s) => s.name === "research_permit") ? "research_permit" : list[0].name;
  await loadSchema();
}
async function loadSchema() { S.schema = await api(`schemas/${encodeURIComponent($("#schema").value)}`); S.proposedFor = ""; renderSchema(); }
function plainType(f) {
  const word = t(`t_${f.plain}`);
  return f.plain === "choice" ? `${word}: ${f.choices.join(", ")}` : word;
}
function renderSchema() {
  const body = $("#schema-fields tbody");
  if (!S.schema) return;
  body.replaceChildren(...S.schema.fields.map((f) => el("tr", {},
    el("td", {}, f.field), el("td", {}, plainType(f)),
    el("td", { class: f.required ? "req" : "" }, f.required ? `* ${t("yes")}` : t("no")),
    el("td", {}, t(f.pii)), el("td", {}, (S.lang === "id" && f.description_id) || f.description))));
}
let officeTimer, officeHits = [];
function officeInput() {
  S.office = null; $("#office-chosen").textContent = "";
  clearTimeout(officeTimer);
  officeTimer = setTimeout(async () => {
    const q = $("#office").value.trim();
    const list = $("#office-list");
    if (q.length < 2) { list.hidden = true; return; }
    try { officeHits = await api(`regions?q=${encodeURIComponent(q)}`); } catch (e) { showError("office", e.message); return; }
    list.replaceChildren(...officeHits.map((r, i) => el("li", { role: "option", id: `office-${i}`, "data-code": r.code,
      onmousedown: (ev) => { ev.preventDefault(); chooseOffice(r); } }, `${r.code} · ${r.name}`)));
    list.hidden = !officeHits.length;
    $("#office").setAttribute("aria-expanded", String(!list.hidden));
  }, 200);
}
function officeKeys(ev) {
  const items = [...document.querySelectorAll("#office-list li")];
  if (!items.length || $("#office-list").hidden) return;
  let at = items.findIndex((li) => li.getAttribute("aria-selected") === "true");
  if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
    ev.preventDefault();
    at = ev.key === "ArrowDown" ? Math.min(at + 1, items.length - 1) : Math.max(at - 1, 0);
    items.forEach((li, i) => li.setAttribute("aria-selected", String(i === at)));
    $("#office").setAttribute("aria-activedescendant", items[at].id);
  } else if (ev.key === "Enter") { ev.preventDefault(); chooseOffice(officeHits[Math.max(at, 0)]); }
  else if (ev.key === "Escape") { $("#office-list").hidden = true; }
}
function chooseOffice(region) {
  S.office = region.code; S.proposedFor = "";
  $("#office").value = region.name;
  $("#office-chosen").textContent = `${region.code} · ${region.name}`;
  $("#office-err").textContent = "";
  $("#office-list").hidden = true;
  $("#office").setAttribute("aria-expanded", "false");
}

// --- step 2 ---
function modeChanged() {
  const live = document.querySelector("input[name=mode]:checked").value === "live";
  $("#mode-file").hidden = live; $("#mode-live").hidden = !live;
  const kind = $("#kind").value;
  document.querySelector(".live-http").hidden = kind === "sql_poll";
  document.querySelector(".live-soap").hidden = kind !== "soap";
  document.querySelector(".live-db").hidden = kind !== "sql_poll";
}
async function readSample() {
  const live = document.querySelector("input[name=mode]:checked").value === "live";
  say(t("working"));
  try {
    if (live) {
      const response = await api("probe", { raw: true, json: { kind: $("#kind").value, url: $("#url").value,
        header_name: $("#hname").value, header_value: $("#hvalue").value, envelope: $("#envelope").value,
        action: $("#action").value, dsn: $("#dsn").value, query: $("#query").value } });
      S.sample = await response.blob(); S.sampleName = response.headers.get("X-Sample-Name") || "sample";
    } else {
      const file = $("#sample").files[0];
      if (!file) { showError("sample", t("need_sample")); return false; }
      S.sample = file; S.sampleName = file.name;
    }
    const form = sampleForm(); form.append("kind", $("#kind").value); form.append("options", JSON.stringify(S.options));
    S.readResult = await api("read", { form });
    S.proposedFor = "";
    renderRead(); say(t("done"));
    return true;
  } catch (e) { showError(e.field, e.message); return false; }
}
function sampleForm() { const form = new FormData(); form.append("sample", S.sample, S.sampleName); return form; }

// --- step 3 ---
function cell(value) { return value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value); }
function flat(row, prefix = "", out = {}) {
  for (const [k, v] of Object.entries(row)) {
    if (v && typeof v === "object" && !Array.isArray(v)) flat(v, `${prefix}${k}.`, out); else out[`${prefix}${k}`] = v;
  }
  return out;
}
function where(text) {  // "sheet Mei, row 3" in the page's language
  return S.lang === "id" ? text.replace(/^sheet (.*), row /, "lembar $1, baris ").replace(/^row /, "baris ").replace(/^record /, "rekaman ") : text;
}
function why(text) {  // a reader's reason in the page's language; a skip rule's reason as its author wrote it
  const rule = text.match(/^skip rule: (.*)$/s);
  if (rule) return `${S.lang === "id" ? "aturan skip" : "skip rule"}: ${rule[1]}`;
  return T.en[`w_${text}`] ? t(`w_${text}`) : text;
}
function renderRead() {
  const r = S.readResult;
  if (!r) return;
  $("#read-summary").textContent = t("read_n", { n: r.rows.length, s: r.skipped.length });
  $("#header-rows").replaceChildren(...r.header_rows.map((h) => el("li", {},
    t("header_at", { sheet: h.sheet ? `${h.sheet}: ` : "", rows: h.rows.join(", "), cols: h.columns.join(", ") }))));
  $("#skipped tbody").replaceChildren(...r.skipped.map((s) => el("tr", {}, el("td", {}, where(s.where)), el("td", {}, why(s.why)))));
  $("#rows thead").replaceChildren(el("tr", {}, el("th", {}, "#"), ...r.columns.map((c) => el("th", { scope: "col" }, c))));
  $("#rows tbody").replaceChildren(...r.rows.slice(0, 200).map((row, i) => {
    const f = flat(row);
    return el("tr", {}, el("td", {}, i + 1), ...r.columns.map((c) => el("td", {}, cell(f[c]))));
  }));
  $("#columns").replaceChildren(...r.columns.map((c) => el("option", { value: c })));
  const option = READ_OPTION[$("#kind").value];
  document.querySelector(".readopts").hidden = !option;
  if (option) {
    $("#readopt-label").textContent = t(`o_${option}`);
    const value = S.options[option] ?? r.settings?.[option] ?? "";
    if (document.activeElement !== $("#readopt")) $("#readopt").value = value;
  }
}
async function reread() {
  const option = READ_OPTION[$("#kind").value];
  const value = $("#readopt").value.trim();
  S.options = {};
  if (value) S.options[option] = option === "header_row" ? Number(value) : value;
  $("#readopt-err").textContent = "";
  S.proposedFor = "";
  if (await readSample()) say(t("done"));
}

// --- step 4: form <-> TOML ---
async function ensureProposal() {
  const key = `${$("#kind").value}|${S.schema.name}|${S.office}|${S.sampleName}|${JSON.stringify(S.options)}`;
  if (S.proposedFor === key) return;
  say(t("working"));
  try {
    const form = sampleForm();
    form.append("kind", $("#kind").value); form.append("schema", S.schema.name); form.append("office", S.office);
    form.append("options", JSON.stringify(S.options));
    const got = await api("propose", { form });
    S.fields = got.fields; S.toml = got.toml; S.proposedFor = key;
    S.proposal = Object.fromEntries(got.fields.map((f) => [f.field, `${f.source}|${f.rule}`]));
    $("#toml").value = S.toml; $("#toml-err").textContent = "";
    renderMapping(); say(t("done")); scheduleTest();
  } catch (e) { showError(e.field, e.message); }
}
function renderMapping() {
  const body = $("#mapping tbody");
  body.replaceChildren(...S.fields.map((f, i) => {
    const edited = S.proposal[f.field] !== undefined && S.proposal[f.field] !== `${f.source}|${f.rule}`;
    const id = `m-${i}`;
    const source = el("input", { id: `${id}-source`, list: "columns", value: f.source || "", disabled: f.rule === "custom",
      "aria-label": `${t("source")} ${f.field}`, onchange: (ev) => { f.source = ev.target.value; formChanged(); } });
    const rule = el("select", { id: `${id}-rule`, "aria-label": `${t("rule")} ${f.field}`,
      onchange: (ev) => { f.rule = ev.target.value; formChanged(); } },
      ...RULES.filter((r) => r !== "custom" || f.rule === "custom").map((r) => el("option", { value: r, selected: r === (f.rule || "") }, t(`r_${r}`))));
    const conf = edited ? t("edited") : f.todo && !f.source ? t("todo") : f.confidence ? f.confidence.toFixed(1) : "";
    return el("tr", { class: `${f.todo && !f.source ? "todo" : ""} ${edited ? "edited" : ""}`, "data-field": f.field },
      el("td", { class: f.required ? "req" : "" }, `${f.field}${f.required ? " *" : ""}`),
      el("td", {}, source), el("td", {}, rule), el("td", { title: f.note || "" }, conf));
  }));
}
let renderTimer, parseTimer, testTimer;
function formChanged() {
  for (const f of S.fields) { f.todo = !f.source && f.rule !== "custom"; if (S.proposal[f.field] !== `${f.source}|${f.rule}`) f.note = t("edited"); }
  clearTimeout(renderTimer);
  renderTimer = setTimeout(async () => {
    try {
      const got = await api("render", { json: { toml: $("#toml").value, fields: S.fields } });
      $("#toml").value = S.toml = got.toml; $("#toml-err").textContent = "";
      renderMapping(); scheduleTest();
    } catch (e) { $("#toml-err").textContent = e.message; }
  }, 250);
}
function tomlChanged() {
  clearTimeout(parseTimer);
  parseTimer = setTimeout(async () => {
    try {
      const got = await api("parse", { json: { toml: $("#toml").value, schema: S.schema.name } });
      const before = Object.fromEntries(S.fields.map((f) => [f.field, f]));
      S.fields = got.fields.map((f) => {
        const old = before[f.field];
        const same = S.proposal[f.field] === `${f.source}|${f.rule}`;
        return { ...f, confidence: same && old ? old.confidence : 0, note: same && old ? old.note : t("edited") };
      });
      S.toml = $("#toml").value; $("#toml-err").textContent = "";
      renderMapping(); scheduleTest();
    } catch (e) { $("#toml-err").textContent = e.message; }
  }, 500);
}

// --- step 5 ---
function scheduleTest() { clearTimeout(testTimer); testTimer = setTimeout(runTest, 400); }
async function runTest() {
  if (!S.toml || !S.sample) return;
  const seq = ++S.seq;
  try {
    const form = sampleForm(); form.append("toml", S.toml);
    const got = await api("test", { form });
    if (seq !== S.seq) return;  // an older answer arriving after a newer edit
    S.test = got; renderTest();
  } catch (e) { if (seq === S.seq) $("#toml-err").textContent = e.message; }
}
function renderTest() {
  const r = S.test;
  if (!r) return;
  const counts = t("counts", { ok: r.counts.ok, q: r.counts.quarantined, s: r.counts.skipped });
  $("#counts").textContent = counts; $("#live-counts").textContent = counts;
  $("#counts").dataset.ok = r.counts.ok; $("#live-counts").dataset.ok = r.counts.ok;
  $("#reasons").textContent = Object.keys(r.reasons).length
    ? t("reasons") + Object.entries(r.reasons).map(([k, v]) => `${k} (${v})`).join(", ") : "";
  $("#test-skipped").textContent = r.skipped.length
    ? t("skipped_rows") + r.skipped.map((s) => `${where(s.where)} (${why(s.why)})`).join("; ") : "";
  const ordered = [...r.records.filter((rec) => !rec.ok), ...r.records.filter((rec) => rec.ok)];  // problems first
  $("#records").replaceChildren(...ordered.map((rec) => el("li", { class: rec.ok ? "ok" : "bad", "data-row": rec.row },
    el("strong", {}, `${rec.id}${rec.kode_wilayah ? ` · ${rec.kode_wilayah}` : ""}${rec.reason ? ` · ${rec.reason}` : ""}`),
    rec.ok ? el("pre", { "aria-label": t("payload") }, JSON.stringify(rec.payload, null, 1))
      : el("ul", { "aria-label": t("issues") }, ...rec.issues.map((i) => el("li", {}, `${i.loc} · ${i.rule} · ${i.message}`))))));
}

// --- step 6 ---
let configText = "";
async function checkConfig() {
  try {
    const got = await api("config", { json: { toml: S.toml } });
    configText = got.toml;
    $("#config-preview").value = configText;
    $("#check").textContent = got.valid ? t("valid") : t("invalid");
    $("#check").dataset.valid = String(got.valid);
    $("#check-problems").replaceChildren(...got.problems.map((p) => el("li", {}, `${p.loc}: ${p.message}`)));
  } catch (e) { $("#check").textContent = e.message; }
}
function download(name, blob) {
  const a = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// --- wiring ---
function init() {
  const match = location.hash.match(/token=([^&]+)/);
  if (match) { S.token = decodeURIComponent(match[1]); history.replaceState(null, "", location.pathname); }
  $("#lang").addEventListener("click", () => { S.lang = S.lang === "id" ? "en" : "id"; applyLanguage(); });
  document.querySelectorAll("#stepnav button").forEach((b) => b.addEventListener("click", () => go(Number(b.dataset.goto))));
  $("#back").addEventListener("click", () => history.back());
  $("#next").addEventListener("click", () => go(S.step + 1));
  $("#schema").addEventListener("change", loadSchema);
  $("#kind").addEventListener("change", () => { S.proposedFor = ""; S.readResult = null; S.options = {}; modeChanged(); });
  $("#office").addEventListener("input", officeInput);
  $("#office").addEventListener("keydown", officeKeys);
  document.querySelectorAll("input[name=mode]").forEach((r) => r.addEventListener("change", modeChanged));
  $("#sample").addEventListener("change", () => { S.readResult = null; S.options = {}; $("#sample-err").textContent = ""; });
  $("#read").addEventListener("click", async () => { if (await readSample()) show(3); });
  $("#reread").addEventListener("click", reread);
  $("#toml").addEventListener("input", tomlChanged);
  $("#dl-block").addEventListener("click", () => download("source.toml", new Blob([S.toml], { type: "application/toml" })));
  $("#dl-config").addEventListener("click", () => download("node.toml", new Blob([configText], { type: "application/toml" })));
  $("#dl-sample").addEventListener("click", () => download(S.sampleName, S.sample));
  window.addEventListener("popstate", (ev) => show(ev.state?.step || 1, false));
  history.replaceState({ step: 1 }, "", location.pathname);
  modeChanged(); applyLanguage(); show(1, false);
  loadSchemas().then(() => { document.body.dataset.loaded = "true"; }).catch((e) => say(e.message));
}
init();
