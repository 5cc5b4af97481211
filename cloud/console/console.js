// smartpos operator console: a thin client of the /api/v1 endpoints (see /docs for the OpenAPI page).
"use strict";
const $ = (s) => document.querySelector(s);
let token = sessionStorage.getItem("smartpos-token");
let me = null;
let storeNames = {}, merchantNames = {}, terminals = [], groups = [], pollS = 300;
let currentTerminal = null, currentGroup = null, currentRollout = null;

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
// a required select's options; with none, one empty choice that names what is missing (the form
// then refuses to submit)
function choices(sel, options, none) {
  $(sel).replaceChildren(...(options.length ? options : [new Option(none, "")]));
}

// a table's rows; a table with data-empty says so in its footer while it has none
function fill(sel, rows) {
  const table = $(sel);
  table.tBodies[0].replaceChildren(...rows);
  if (!table.dataset.empty) return;
  if (rows.length) { table.deleteTFoot(); return; }
  const td = document.createElement("td");
  td.colSpan = table.tHead.rows[0].cells.length;
  td.className = "empty";
  td.textContent = table.dataset.empty;
  const tr = document.createElement("tr");
  tr.appendChild(td);
  table.createTFoot().replaceChildren(tr);
}
function showError(e) { $("#error").textContent = e ? String(e.message || e) : ""; }
function link(label, fn) {
  const a = document.createElement("a");
  a.className = "link"; a.textContent = label;
  a.onclick = () => { showError(null); Promise.resolve(fn()).catch(showError); };
  return a;
}
function button(label, fn) {
  const b = document.createElement("button");
  b.textContent = label;
  b.onclick = async () => { showError(null); try { await fn(); } catch (e) { showError(e); } };
  return b;
}
function span(cls, txt) { const s = document.createElement("span"); s.className = cls; s.textContent = txt; return s; }
function kv(sel, obj) { fill(sel, Object.entries(obj).map(([k, v]) => { const tr = row([v]); const th = document.createElement("th"); th.textContent = k; tr.prepend(th); return tr; })); }
function showTab(name) {
  document.querySelectorAll("nav button").forEach((x) => x.classList.toggle("active", x.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((t) => { t.hidden = t.id !== "tab-" + name; });
}
function age(v) {
  if (!v) return null;
  return (Date.now() - Date.parse(v)) / 1000;
}
function online(t) { const a = age(t.last_seen_at); return a !== null && a < 3 * pollS + 30; }
function termName(id) { const t = terminals.find((x) => x.id === id); return t ? t.controller_id : "#" + id; }

function signedOut() {
  token = null; me = null; sessionStorage.removeItem("smartpos-token");
  $("#app-view").hidden = true; $("#who").hidden = true; $("#login-view").hidden = false;
}

async function signedIn() {
  me = await api("GET", "/auth/me");
  $("#who-name").textContent = me.username + " (" + me.role.replace("_", " ") + ")";
  $("#who").hidden = false; $("#login-view").hidden = true; $("#app-view").hidden = false;
  const op = me.role.startsWith("operator");
  document.querySelectorAll("nav [data-operator]").forEach((b) => { b.hidden = !op; });
  try { pollS = (await (await fetch("/healthz")).json()).ddi_poll_s || 300; } catch (e) { /* keep the default */ }
  await refreshAll();
}

async function refreshAll() {
  showError(null);
  try {
    await loadMerchants();
    await loadFleet();
    await loadAccounts();
    if (me.role !== "merchant_staff") await loadAudit();
    if (me.role.startsWith("operator")) { await loadGroups(); await loadParameters(); await loadReleases(); await loadRollouts(); }
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
  choices("#store-form [name=merchant_id]", opts(Object.entries(merchantNames)), "no merchant yet");
  $("#account-form [name=merchant_id]").replaceChildren(...opts(Object.entries(merchantNames), "(operator)"));
  const fm = $("#fleet-merchant").value;
  $("#fleet-merchant").replaceChildren(...opts(Object.entries(merchantNames), "any merchant"));
  $("#fleet-merchant").value = fm;
  $("#group-form [name=merchant_id]").replaceChildren(...opts(Object.entries(merchantNames), "any merchant"));
  $("#group-form [name=store_id]").replaceChildren(...opts(Object.entries(storeNames), "any store"));
}

async function loadFleet() {
  const q = $("#fleet-filter").value.trim(), st = $("#fleet-state").value, mid = $("#fleet-merchant").value;
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (st) params.set("state", st);
  if (mid) params.set("merchant_id", mid);
  params.set("limit", "1000");
  const all = await api("GET", "/terminals?" + params);
  if (!q && !st && !mid) terminals = all;
  const model = $("#fleet-model").value.trim().toLowerCase(), fw = $("#fleet-firmware").value.trim();
  const on = $("#fleet-online").value;
  const shown = all.filter((t) => (!model || (t.model + " " + text(t.attributes.model)).toLowerCase().includes(model)) &&
    (!fw || text(t.attributes.firmware) === fw) && (!on || (on === "online") === online(t)));
  $("#fleet-count").textContent = shown.length + " terminal(s)";
  fill("#fleet", shown.map((t) => {
    const state = span("state-" + t.state, t.state + (t.activation_expires_at ? " (code pending)" : ""));
    const up = t.state === "enrolled" ? span(online(t) ? "online" : "offline", online(t) ? "online" : "offline") : "";
    const act = button("New activation code", async () => { showActivation(await api("POST", "/terminals/" + t.id + "/activation")); await loadFleet(); });
    return row([link(t.controller_id, () => openTerminal(t.id)), t.serial, t.model || t.attributes.model,
      t.attributes.firmware, t.tid, t.store_id ? storeNames[t.store_id] : "", state, up,
      when(t.last_seen_at), t.state === "disabled" ? "" : act]);
  }));
  const sel = $("#param-terminal"), keep = sel.value;
  sel.replaceChildren(...terminals.map((t) => new Option(t.controller_id, t.id)));
  if (keep) sel.value = keep;
  fillPushTargets();
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
document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => { currentRollout = null; showTab(b.dataset.tab); }));
$("#fleet-filter").addEventListener("input", () => loadFleet().catch(showError));
for (const id of ["#fleet-state", "#fleet-merchant", "#fleet-online"]) $(id).addEventListener("change", () => loadFleet().catch(showError));
for (const id of ["#fleet-model", "#fleet-firmware"]) $(id).addEventListener("input", () => loadFleet().catch(showError));
onSubmit("#register-form", async (d) => showActivation(await api("POST", "/terminals", d)));
onSubmit("#merchant-form", (d) => api("POST", "/merchants", d));
onSubmit("#store-form", (d) => api("POST", "/stores", d));
onSubmit("#account-form", (d) => api("POST", "/accounts", d));

// ---- terminal detail ----
async function openTerminal(id) {
  currentTerminal = id;
  showTab("terminal");
  await loadTerminal();
}

async function loadTerminal() {
  const id = currentTerminal;
  const t = await api("GET", "/terminals/" + id);
  $("#term-title").textContent = "Terminal " + t.controller_id;
  kv("#term-info", { "serial": t.serial, "model": t.model, "TID": t.tid, "store": t.store_id ? storeNames[t.store_id] : "",
    "state": t.state, "status": t.state === "enrolled" ? (online(t) ? "online" : "offline") : "",
    "enrolled (UTC)": when(t.enrolled_at), "last heartbeat (UTC)": when(t.last_seen_at) });
  kv("#term-attrs", t.attributes);
  if (!me.role.startsWith("operator")) return;
  const actions = await api("GET", "/tms/actions?terminal_id=" + id + "&limit=20");
  const installed = {};
  actions.filter((a) => a.state === "success").forEach((a) => {
    const kind = a.module.split(" ")[0];
    if (kind !== "diag" && !installed[kind]) installed[kind] = a;      // diagnostics install nothing
  });
  fill("#term-installed", [row(["firmware (reported)", "", text(t.attributes.firmware), ""])].concat(
    Object.entries(installed).map(([k, a]) => { const p = a.module.split(" "); return row([k, p[1], p[2], when(a.closed_at)]); })));
  const detailed = await Promise.all(actions.slice(0, 10).map((a) => api("GET", "/tms/actions/" + a.id)));
  fill("#term-actions", detailed.map((a) => {
    const last = a.history[a.history.length - 1];
    return row([a.id, a.module, span("state-" + a.state, a.state), when(a.updated_at),
      last ? last.execution + "/" + last.finished + (last.details.length ? ": " + last.details.join("; ") : "") : ""]);
  }));
  const p = await api("GET", "/terminals/" + id + "/parameters");
  $("#term-param-sets").textContent = p.sets.length ? "from " + p.sets.join(", ") : "no parameter template applies";
  $("#term-params").textContent = JSON.stringify(p.files, null, 2);
  await loadDiagnostics();
}

async function loadDiagnostics() {
  const id = currentTerminal;
  const diags = await api("GET", "/terminals/" + id + "/diagnostics");
  fill("#term-diag", diags.map((d) => row([d.id, d.what, span("state-" + d.state, d.state), when(d.requested_at), when(d.answered_at)])));
  const logs = diags.find((d) => d.what === "logs" && d.answered_at);
  if (logs) { $("#diag-log-lines").textContent = logs.lines.join("\n"); $("#diag-log-lines").hidden = false; }
  const screen = diags.find((d) => d.what === "screen" && d.answered_at);
  const img = $("#diag-screenshot");
  if (screen && img.dataset.request !== String(screen.id)) {
    const r = await fetch("/api/v1/terminals/" + id + "/diagnostics/" + screen.id + "/screen.png", { headers: { "Authorization": "Bearer " + token } });
    if (!r.ok) throw new Error("screenshot: " + r.status + " " + r.statusText);
    img.src = URL.createObjectURL(await r.blob());
    img.dataset.request = String(screen.id);
    img.hidden = false;
  }
  return diags;
}

async function requestDiagnostics(what) {
  await api("POST", "/terminals/" + currentTerminal + "/diagnostics", { what });
  await watch(async () => { const d = await loadDiagnostics(); return d.length && ["success", "failed", "cancelled"].includes(d[0].state); });
}

// re-read something every 2 s until `done()` is true or the view changes (the terminal answers at its next poll)
async function watch(done, limit = 300) {
  for (let i = 0; i < limit; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

$("#diag-logs").onclick = () => { showError(null); requestDiagnostics("logs").catch(showError); };
$("#diag-screen").onclick = () => { showError(null); requestDiagnostics("screen").catch(showError); };
$("#term-push").onclick = async () => {
  showError(null);
  try { await pushParameters([currentTerminal], false); await loadTerminal(); } catch (e) { showError(e); }
};

// ---- groups ----
async function loadGroups() {
  groups = await api("GET", "/tms/groups");
  fill("#groups", groups.map((g) => row([g.name, g.kind,
    Object.entries(g.filter).map(([k, v]) => k + "=" + (k === "merchant_id" ? merchantNames[v] : k === "store_id" ? storeNames[v] : v)).join(", "),
    g.size, g.kind === "static" ? link("members", () => openGroup(g)) : link("show", () => openGroup(g))])));
  choices("#rollout-form [name=group_id]", groups.map((g) => new Option(g.name + " (" + g.size + ")", g.id)),
          "no group yet");
  $("#rollout-form [name=stage_groups]").replaceChildren(...groups.map((g) => new Option(g.name, g.id)));
  fillPushTargets();
}

async function openGroup(g) {
  currentGroup = g;
  const ids = await api("GET", "/tms/groups/" + g.id + "/terminals");
  $("#group-members-title").textContent = (g.kind === "static" ? "Members of " : "Terminals now in ") + g.name;
  $("#group-member-list").replaceChildren(...terminals.filter((t) => t.state === "enrolled" || ids.includes(t.id)).map((t) => {
    const l = document.createElement("label");
    const c = document.createElement("input");
    c.type = "checkbox"; c.value = t.id; c.checked = ids.includes(t.id); c.disabled = g.kind !== "static";
    l.append(c, " " + t.controller_id);
    return l;
  }));
  $("#group-members-save").hidden = g.kind !== "static";
  $("#group-members").hidden = false;
}

$("#group-members-save").onclick = async () => {
  showError(null);
  try {
    const ids = [...document.querySelectorAll("#group-member-list input:checked")].map((c) => Number(c.value));
    await api("PUT", "/tms/groups/" + currentGroup.id + "/members", { terminal_ids: ids });
    await loadGroups();
  } catch (e) { showError(e); }
};

function groupKindChanged() {
  const dyn = $("#group-form [name=kind]").value === "dynamic";
  document.querySelectorAll("#group-form .dynamic-only").forEach((e) => { e.hidden = !dyn; });
}
$("#group-form [name=kind]").addEventListener("change", groupKindChanged);
$("#group-form").addEventListener("reset", () => setTimeout(groupKindChanged, 0));
onSubmit("#group-form", async (d) => {
  const body = { name: d.name, kind: d.kind || "static" };
  if (body.kind === "dynamic") {
    body.filter = {};
    for (const k of ["model", "firmware", "merchant_id", "store_id"]) if (d[k] !== undefined) body.filter[k] = d[k];
  }
  const g = await api("POST", "/tms/groups", body);
  if (g.kind === "static") { await loadGroups(); await openGroup(g); }
});

// ---- parameters ----
async function loadParameters() {
  const sets = await api("GET", "/tms/parameters");
  const scopeName = (p) => p.scope === "operator" ? "whole fleet" : p.scope + " " +
    (p.scope === "merchant" ? merchantNames[p.scope_id] : p.scope === "store" ? storeNames[p.scope_id] : termName(p.scope_id));
  fill("#param-sets", sets.map((p) => row([scopeName(p), p.version, Object.keys(p.files).join(", "), when(p.updated_at),
    link("edit", () => editSet(p))])));
}

function scopeChoices() {
  const scope = $("#param-form [name=scope]").value;
  const list = scope === "operator" ? [["0", "(fleet)"]] : scope === "merchant" ? Object.entries(merchantNames) :
    scope === "store" ? Object.entries(storeNames) : terminals.map((t) => [String(t.id), t.controller_id]);
  $("#param-form [name=scope_id]").replaceChildren(...list.map(([v, t]) => new Option(t, v)));
}
$("#param-form [name=scope]").addEventListener("change", scopeChoices);

function editSet(p) {
  $("#param-form [name=scope]").value = p.scope;
  scopeChoices();
  $("#param-form [name=scope_id]").value = String(p.scope_id);
  $("#param-form [name=files]").value = JSON.stringify(p.files, null, 2);
}

$("#param-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showError(null);
  try {
    const f = ev.target;
    let files;
    try { files = JSON.parse(f.files.value); } catch (e) { throw new Error("template is not valid JSON: " + e.message); }
    await api("PUT", "/tms/parameters/" + f.scope.value + "/" + f.scope_id.value, { files });
    await loadParameters();
  } catch (e) { showError(e); }
});

$("#param-render").onclick = async () => {
  showError(null);
  try {
    const p = await api("GET", "/terminals/" + $("#param-terminal").value + "/parameters");
    $("#param-rendered-sets").textContent = p.sets.length ? "from " + p.sets.join(", ") : "no parameter template applies";
    $("#param-rendered").textContent = JSON.stringify(p.files, null, 2);
  } catch (e) { showError(e); }
};

function fillPushTargets() {
  const sel = $("#param-push-form [name=target]"), keep = sel.value;
  sel.replaceChildren(new Option("whole fleet (enrolled)", "fleet"),
    ...groups.map((g) => new Option("group " + g.name, "group:" + g.id)),
    ...terminals.filter((t) => t.state === "enrolled").map((t) => new Option("terminal " + t.controller_id, "terminal:" + t.id)));
  if (keep) sel.value = keep;
}

async function pushParameters(ids, forced) {
  if (!ids.length) throw new Error("no enrolled terminal to push to");
  const pushed = await api("POST", "/tms/parameters/push", { terminal_ids: ids, forced });
  const show = async () => {
    const states = await Promise.all(pushed.map((p) => api("GET", "/tms/actions/" + p.action_id)));
    fill("#param-pushed", pushed.map((p, i) => row([termName(p.terminal_id), p.action_id, p.version,
      span("state-" + states[i].state, states[i].state)])));
    return states.every((a) => ["success", "failed", "cancelled"].includes(a.state));
  };
  watch(show).catch(showError);
  return pushed;
}

$("#param-push-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showError(null);
  try {
    const target = ev.target.target.value;
    let ids;
    if (target === "fleet") ids = terminals.filter((t) => t.state === "enrolled").map((t) => t.id);
    else if (target.startsWith("group:")) ids = await api("GET", "/tms/groups/" + target.slice(6) + "/terminals");
    else ids = [Number(target.slice(9))];
    await pushParameters(ids, ev.target.forced.checked);
  } catch (e) { showError(e); }
});

// ---- firmware releases ----
async function loadReleases() {
  const mods = await api("GET", "/tms/modules?kind=firmware");
  fill("#releases", mods.map((m) => row([m.name, m.kind, m.version, m.description,
    m.artifacts.map((a) => a.filename + " (" + a.size + " B, sha256 " + a.sha256.slice(0, 12) + "...)").join("; ")])));
  choices("#rollout-form [name=module_id]", mods.map((m) => new Option(m.name + " " + m.version, m.id)),
          "no release uploaded yet");
}

$("#release-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showError(null);
  const f = ev.target;
  try {
    const m = await api("POST", "/tms/modules", { kind: "firmware", name: f.name.value, version: f.version.value,
      description: f.description.value });
    for (const file of f.files.files) {
      const r = await fetch("/api/v1/tms/modules/" + m.id + "/artifacts/" + encodeURIComponent(file.name), {
        method: "PUT", headers: { "Authorization": "Bearer " + token, "Content-Type": "application/octet-stream" }, body: file });
      if (!r.ok) { const d = await r.json().catch(() => ({})); throw new Error(file.name + ": " + (d.detail || r.statusText)); }
    }
    f.reset();
    await loadReleases();
  } catch (e) { showError(e); await loadReleases().catch(() => {}); }
});

// ---- rollouts ----
async function loadRollouts() {
  const list = await api("GET", "/tms/rollouts");
  const gname = (id) => (groups.find((g) => g.id === id) || { name: "#" + id }).name;
  fill("#rollouts", list.map((r) => row([r.name, r.module_id, gname(r.group_id), stagesText(r),
    (r.stage + 1) + " of " + stageCount(r), span("state-" + r.state, r.state),
    Object.entries(r.counts).map(([k, v]) => k + " " + v).join(", "), link("open", () => openRollout(r.id))])));
}

function stageCount(r) { return r.stage_groups.length ? r.stage_groups.length + 1 : r.stages.length; }
function stagesText(r) {
  const gname = (id) => (groups.find((g) => g.id === id) || { name: "#" + id }).name;
  return r.stage_groups.length ? r.stage_groups.map(gname).concat(["the rest"]).join(" / ") : r.stages.join("% / ") + "%";
}

function showRollout(r) {
  $("#rollout-title").textContent = "Rollout " + r.name;
  $("#rollout-state").textContent = r.state;
  $("#rollout-state").className = "state-" + r.state;
  $("#rollout-reason").textContent = r.reason;
  $("#rollout-counts").textContent = "stage " + (r.stage + 1) + " of " + stageCount(r) + " (" + stagesText(r) +
    "), error threshold " + r.error_threshold + "%; " + r.total + " terminal(s): " +
    Object.entries(r.counts).map(([k, v]) => k + " " + v).join(", ");
  fill("#rollout-targets", r.targets.map((t) => row([termName(t.terminal_id), t.stage + 1, t.action_id, span("state-" + t.state, t.state)])));
  $("#rollout-detail").hidden = false;
}

async function openRollout(id) {
  currentRollout = id;
  const r = await api("GET", "/tms/rollouts/" + id);
  showRollout(r);
  watch(async () => {
    if (currentRollout !== id) return true;
    const now = await api("GET", "/tms/rollouts/" + id);
    showRollout(now);
    await loadRollouts();
    return now.state === "finished";
  }).catch(showError);
}

document.querySelectorAll("[data-rollout]").forEach((b) => { b.onclick = async () => {
  showError(null);
  try { showRollout(await api("POST", "/tms/rollouts/" + currentRollout + "/" + b.dataset.rollout)); await loadRollouts(); }
  catch (e) { showError(e); }
}; });

$("#rollout-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showError(null);
  const f = ev.target;
  try {
    const body = { name: f.name.value, module_id: Number(f.module_id.value), group_id: Number(f.group_id.value),
      error_threshold: Number(f.error_threshold.value), forced: f.forced.checked };
    const byGroups = [...f.stage_groups.selectedOptions].map((o) => Number(o.value));
    if (byGroups.length) body.stage_groups = byGroups;
    else body.stages = f.stages.value.split(",").map((x) => Number(x.trim())).filter((x) => x);
    const r = await api("POST", "/tms/rollouts", body);
    await loadRollouts();
    await openRollout(r.id);
  } catch (e) { showError(e); }
});

// the fleet list and an open terminal follow heartbeats while they are on screen
setInterval(() => {
  if (!token || !me) return;
  if (!$("#tab-fleet").hidden) loadFleet().catch(showError);
  else if (!$("#tab-terminal").hidden && currentTerminal) loadTerminal().catch(showError);
}, 5000);

groupKindChanged();
scopeChoices();
if (token) signedIn().catch(() => signedOut()); else signedOut();
