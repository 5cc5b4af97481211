// smartpos back office: the merchant's items, stock, purchase orders, stock takes and low
// stock, over /api/v1 (cloud.catalog.router); nothing is fetched from elsewhere.
"use strict";
const $ = (s) => document.querySelector(s);
let token = sessionStorage.getItem("smartpos-token");
let me = null;

async function api(path, method, body, type) {
  const headers = { "Authorization": "Bearer " + token };
  if (body !== undefined) headers["Content-Type"] = type || "application/json";
  const r = await fetch("/api/v1" + path, { method: method || "GET", headers,
    body: body === undefined ? undefined : (type ? body : JSON.stringify(body)) });
  if (r.status === 401) { signedOut(); throw new Error("signed out: sign in again"); }
  const data = (r.headers.get("content-type") || "").startsWith("application/json") ? await r.json() : await r.text();
  if (!r.ok) { const e = new Error(typeof data === "string" ? data : detailText(data.detail)); e.detail = data.detail; throw e; }
  return data;
}

function detailText(d) {
  if (typeof d === "string") return d;
  return (d || []).map((p) => p.msg + (p.row ? " (row " + p.row + ")" : "")).join("; ");
}

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function fillRows(table, rows, attrs) {
  const body = $(table + " tbody"); body.replaceChildren();
  rows.forEach((cells, i) => {
    const tr = el("tr", attrs ? attrs[i] : {});
    for (const c of cells) { const td = el("td"); if (c instanceof Node) td.appendChild(c); else td.textContent = String(c ?? ""); tr.appendChild(td); }
    body.appendChild(tr);
  });
}

const store = () => $("#store").value;
const merchant = () => "/merchants/" + me.merchant_id;

function say(text) { $("#notice").textContent = text; $("#error").textContent = ""; }
function fail(e) { $("#error").textContent = e.message; $("#notice").textContent = ""; }

const PAGES = {
  async items() {
    const [items, cats, cat] = await Promise.all([api(merchant() + "/catalog/items?limit=5000"),
      api(merchant() + "/catalog/categories"), api(merchant() + "/catalog")]);
    $("#version").textContent = "catalog version " + cat.version + ", " + cat.items + " items";
    fillRows("#items", items.map((i) => [i.sku, i.barcode, i.name, i.name_zh, i.price, i.tax, i.unit, i.category, i.plu || "",
      i.reorder_level || "", i.version]), items.map((i) => ({ "data-sku": i.sku })));
    fillRows("#categories", cats.map((c) => [c.code, c.name, c.name_zh]));
  },
  async stock() {
    const [levels, moves] = await Promise.all([api("/stores/" + store() + "/stock"),
      api("/stores/" + store() + "/stock/movements?limit=50")]);
    fillRows("#levels", levels.map((l) => [l.sku, l.name, l.on_hand, l.unit === "kg" ? "g" : "pcs", l.reorder_level || ""]),
      levels.map((l) => ({ "data-sku": l.sku, "data-on-hand": l.on_hand, "class": l.low ? "low" : "" })));
    fillRows("#movements", moves.map((m) => [m.at.slice(0, 16).replace("T", " "), m.sku, m.kind, m.qty, m.on_hand_after, m.ref || m.note]));
  },
  async orders() {
    const orders = await api("/stores/" + store() + "/purchase-orders");
    fillRows("#orders", orders.map((o) => {
      let act = "";
      if (o.state === "open") {
        act = el("button", { "data-receive": o.id }, "Receive the rest");
        act.addEventListener("click", () => receiveRest(o).catch(fail));
      }
      return [o.id, o.supplier, o.state, o.lines.map((l) => l.sku + " " + l.qty_received + "/" + l.qty_ordered).join(", "), act];
    }), orders.map((o) => ({ "data-order": o.id, "data-state": o.state })));
  },
  async takes() {
    const takes = await api("/stores/" + store() + "/stock-takes");
    fillRows("#takes", takes.map((t) => [t.id, t.state, t.created_at.slice(0, 16).replace("T", " "), t.lines.length]));
    const open = takes.find((t) => t.state === "open");
    showTake(open || takes[0]);
  },
  async low() {
    const [low, alerts] = await Promise.all([api("/stores/" + store() + "/stock?low=true"),
      api("/stores/" + store() + "/stock/alerts")]);
    fillRows("#low", low.map((l) => [l.sku, l.name, l.on_hand, l.reorder_level]), low.map((l) => ({ "data-sku": l.sku })));
    fillRows("#alerts", alerts.map((a) => [a.sku, a.raised_at.slice(0, 16).replace("T", " "), a.on_hand]));
  },
};

let takeId = null;
function showTake(t) {
  takeId = t && t.state === "open" ? t.id : null;
  $("#count-form").hidden = takeId === null;
  $("#take-open").hidden = takeId !== null;
  $("#take-caption").textContent = t ? "Stock take " + t.id + " (" + t.state + ")" : "";
  const lines = t ? t.lines : [];
  fillRows("#take-lines", lines.map((l) => {
    const v = el("span", { "class": l.variance < 0 ? "variance-neg" : l.variance > 0 ? "variance-pos" : "" },
                 l.variance === null ? "" : (l.variance > 0 ? "+" : "") + l.variance);
    return [l.sku, l.name, l.counted, l.expected ?? "", v];
  }), lines.map((l) => ({ "data-sku": l.sku, "data-variance": l.variance ?? "" })));
}

async function receiveRest(o) {
  const lines = o.lines.filter((l) => l.qty_received < l.qty_ordered).map((l) => ({ sku: l.sku, qty: l.qty_ordered - l.qty_received }));
  const r = await api("/purchase-orders/" + o.id + "/receipts", "POST", { ref: "web-" + Date.now(), lines });
  say("order " + o.id + " " + r.state);
  await PAGES.orders();
}

function codeRef(text, qty) {
  return /^[0-9]{8}$|^[0-9]{12,13}$/.test(text) ? { barcode: text, qty } : { sku: text, qty };
}

async function show() {
  const name = (location.hash || "#items").slice(1);
  if (!PAGES[name]) return;
  document.querySelectorAll(".page").forEach((p) => { p.hidden = p.id !== "page-" + name; });
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("here", a.getAttribute("href") === "#" + name));
  document.body.removeAttribute("data-ready");
  try { await PAGES[name](); } catch (e) { fail(e); }
  document.body.setAttribute("data-ready", name);
}

$("#import-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("#import-problems").hidden = true;
  try {
    const text = await $("#import-file").files[0].text();
    const r = await api(merchant() + "/catalog/import", "POST", text, "text/csv");
    say("imported: " + r.created + " new, " + r.changed + " changed, " + r.unchanged + " unchanged; catalog version " + r.version);
  } catch (e) {
    if (Array.isArray(e.detail)) {
      fillRows("#import-problems", e.detail.map((p) => [p.row ?? "", p.column, p.msg]));
      $("#import-problems").hidden = false;
      fail(new Error("nothing imported: " + e.detail.length + " problem(s)"));
    } else fail(e);
  }
  await show();
});

$("#item-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const r = await api(merchant() + "/catalog/items", "POST", { sku: $("#item-sku").value, barcode: $("#item-barcode").value,
      name: $("#item-name").value, name_zh: $("#item-name-zh").value, price: Number($("#item-price").value),
      unit: $("#item-unit").value, category: $("#item-category").value });
    say("item " + r.sku + " saved; catalog version " + r.catalog_version);
  } catch (e) { fail(e); }
  await show();
});

$("#adjust-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const r = await api("/stores/" + store() + "/stock/adjustments", "POST", { sku: $("#adjust-sku").value,
      qty: Number($("#adjust-qty").value), note: $("#adjust-note").value });
    say(r.sku + " now " + r.on_hand);
  } catch (e) { fail(e); }
  await show();
});

$("#order-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const lines = $("#order-lines").value.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
      const m = /^(\S+)\s*x\s*([0-9]+)$/.exec(s);
      if (!m) throw new Error("write lines as SKU x qty, separated by commas: " + s);
      return { sku: m[1], qty: Number(m[2]) };
    });
    const o = await api("/stores/" + store() + "/purchase-orders", "POST", { supplier: $("#order-supplier").value, lines });
    say("order " + o.id + " placed");
  } catch (e) { fail(e); }
  await show();
});

$("#take-open").addEventListener("click", async () => {
  try { const t = await api("/stores/" + store() + "/stock-takes", "POST", {}); say("stock take " + t.id + " started"); } catch (e) { fail(e); }
  await show();
});

$("#count-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const t = await api("/stock-takes/" + takeId + "/counts", "POST", { lines: [codeRef($("#count-code").value.trim(), Number($("#count-qty").value))] });
    $("#count-code").value = "";
    showTake(t);
    say("counted");
  } catch (e) { fail(e); }
  document.body.setAttribute("data-ready", "takes");
});

$("#take-close").addEventListener("click", async () => {
  try { await api("/stock-takes/" + takeId + "/close", "POST"); say("stock set to the counts"); } catch (e) { fail(e); }
  await show();
});

$("#store").addEventListener("change", show);
window.addEventListener("hashchange", show);

function signedOut() {
  token = null; sessionStorage.removeItem("smartpos-token");
  $("#app-view").hidden = true; $("#login-view").hidden = false;
}

async function signedIn() {
  me = await api("/auth/me");
  if (me.merchant_id === null) throw new Error("the back office is for a merchant's owner and staff");
  $("#who").textContent = me.username;
  const stores = await api("/stores");
  $("#store").replaceChildren(...stores.map((s) => el("option", { value: s.id }, s.name)));
  $("#login-view").hidden = true; $("#app-view").hidden = false;
  await show();
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault(); $("#login-error").textContent = "";
  try {
    const r = await fetch("/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("#username").value, password: $("#password").value }) });
    const d = await r.json();
    if (!r.ok) throw new Error(d.detail || "sign-in refused");
    token = d.token; sessionStorage.setItem("smartpos-token", token);
    await signedIn();
  } catch (e) { $("#login-error").textContent = e.message; }
});

if (token) signedIn().catch(() => signedOut()); else signedOut();
