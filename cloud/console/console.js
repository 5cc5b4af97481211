// smartpos operator console: a thin client of the /api/v1 endpoints (see /docs for the OpenAPI page).
"use strict";
const $ = (s) => document.querySelector(s);
let token = sessionStorage.getItem("smartpos-token");
let me = null;
let storeNames = {}, merchantNames = {};

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch("/api/v1" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401 && path !== "/auth/login") { signedOut(); throw new Error("signed out: sign in again"); }
  const data = r.status === 204 ? null : await r.json();
  if (!r.ok) {
    const d = data && data.detail;
    throw new Error(Array.isArray(d) ? d.map((e) => (e.loc || []).slice(1).join(".") + ": " + e.msg).join("; ") : (d || r.statusText));
  }
  return data;
}

function text(v) { return v === null || v === undefined ? "" : String(v); }
function when(v) { return v ? v.replace("T", " ").slice(0, 19) : ""; }
function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = text(c);
    tr.appendChild(td);
  }
  return tr;
}
function fill(sel, rows) { const tb = $(sel + " tbody"); tb.replaceChildren(...rows); }
function showError(e) { $("#error").textContent = e ? String(e.message || e) : ""; }

function signedOut() {
  token = null; me = null; sessionStorage.removeItem("smartpos-token");
  $("#app-view").hidden = true; $("#who").hidden = true; $("#login-view").hidden = false;
}

async function signedIn() {
  me = await api("GET", "/auth/me");
  $("#who-name").textContent = me.username + " (" + me.role.replace("_", " ") + ")";
  $("#who").hidden = false; $("#login-view").hidden = true; $("#app-view").hidden = false;
  await refreshAll();
}

async function refreshAll() {
  showError(null);
  try {
    await loadMerchants();
    await loadFleet();
    await loadAccounts();
    if (me.role !== "merchant_staff") await loadAudit();
  } catch (e) { showError(e); }
}

async function loadMerchants() {
  const merchants = await api("GET", "/merchants");
  const stores = await api("GET", "/stores");
  merchantNames = {}; storeNames = {};
  merchants.forEach((m) => { merchantNames[m.id] = m.name; });
  stores.forEach((s) => { storeNames[s.id] = merchantNames[s.merchant_id] + " / " + s.name; });
  fill("#merchants", merchants.map((m) => row([m.name, m.mid, m.currency,
    stores.filter((s) => s.merchant_id === m.id).map((s) => s.name).join(", ")])));
  const opts = (list, blank) => (blank ? [new Option(blank, "")] : []).concat(list.map(([v, t]) => new Option(t, v)));
  $("#register-form [name=store_id]").replaceChildren(...opts(Object.entries(storeNames), "no store yet"));
  $("#store-form [name=merchant_id]").replaceChildren(...opts(Object.entries(merchantNames)));
  $("#account-form [name=merchant_id]").replaceChildren(...opts(Object.entries(merchantNames), "(operator)"));
}

async function loadFleet() {
  const q = $("#fleet-filter").value.trim(), st = $("#fleet-state").value;
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (st) params.set("state", st);
  const terms = await api("GET", "/terminals" + (params.toString() ? "?" + params : ""));
  $("#fleet-count").textContent = terms.length + " terminal(s)";
  fill("#fleet", terms.map((t) => {
    const state = document.createElement("span");
    state.className = "state-" + t.state;
    state.textContent = t.state + (t.activation_expires_at ? " (code pending)" : "");
    const act = document.createElement("button");
    act.textContent = "New activation code";
    act.onclick = async () => {
      try { showActivation(await api("POST", "/terminals/" + t.id + "/activation")); await loadFleet(); }
      catch (e) { showError(e); }
    };
    return row([t.controller_id, t.serial, t.model, t.tid, t.store_id ? storeNames[t.store_id] : "", state,
      when(t.enrolled_at), when(t.last_seen_at), t.state === "disabled" ? "" : act]);
  }));
}

function showActivation(a) {
  const p = $("#activation");
  p.textContent = "Activation code for " + a.terminal.serial + ": " + a.activation_code +
    "  (valid until " + when(a.expires_at) + " UTC; shown once; type it on the terminal or scan the QR)";
  if (a.activation_qr) {
    const img = document.createElement("img");
    img.id = "activation-qr";
    img.alt = "activation code " + a.activation_code + " as a QR code";
    img.src = a.activation_qr;
    p.append(document.createElement("br"), img);
  }
  p.hidden = false;
}

async function loadAccounts() {
  const accounts = await api("GET", "/accounts");
  fill("#accounts", accounts.map((a) => row([a.username, a.display_name, a.role,
    a.merchant_id ? merchantNames[a.merchant_id] : "", a.disabled ? "disabled" : "active"])));
}

async function loadAudit() {
  const entries = await api("GET", "/audit?limit=200");
  fill("#audit", entries.map((e) => row([when(e.at), e.actor, e.action, e.entity + " " + e.entity_id,
    JSON.stringify(e.detail)])));
}

function formData(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) {
    if (v === "") continue;
    out[k] = /_id$/.test(k) ? Number(v) : v;
  }
  return out;
}

function onSubmit(sel, fn) {
  $(sel).addEventListener("submit", async (ev) => {
    ev.preventDefault();
    showError(null);
    try { await fn(formData(ev.target)); ev.target.reset(); await refreshAll(); }
    catch (e) { showError(e); }
  });
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("#login-error").textContent = "";
  try {
    const s = await api("POST", "/auth/login", { username: $("#username").value, password: $("#password").value });
    token = s.token; sessionStorage.setItem("smartpos-token", token);
    $("#password").value = "";
    await signedIn();
  } catch (e) { $("#login-error").textContent = e.message; }
});
$("#logout").onclick = async () => { try { await api("POST", "/auth/logout"); } catch (e) { /* signed out anyway */ } signedOut(); };
document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => {
  document.querySelectorAll("nav button").forEach((x) => x.classList.toggle("active", x === b));
  document.querySelectorAll(".tab").forEach((t) => { t.hidden = t.id !== "tab-" + b.dataset.tab; });
}));
$("#fleet-filter").addEventListener("input", () => loadFleet().catch(showError));
$("#fleet-state").addEventListener("change", () => loadFleet().catch(showError));
onSubmit("#register-form", async (d) => showActivation(await api("POST", "/terminals", d)));
onSubmit("#merchant-form", (d) => api("POST", "/merchants", d));
onSubmit("#store-form", (d) => api("POST", "/stores", d));
onSubmit("#account-form", (d) => api("POST", "/accounts", d));

if (token) signedIn().catch(() => signedOut()); else signedOut();
