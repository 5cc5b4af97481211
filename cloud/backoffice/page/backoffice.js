// smartpos back office: the merchant's dashboard, drawn from /api/v1/merchants/{id}/dashboard
// (charts are inline SVG built here; nothing is fetched from elsewhere).
"use strict";
const $ = (s) => document.querySelector(s);
const SVG = "http://www.w3.org/2000/svg";
let token = sessionStorage.getItem("smartpos-token");
let me = null, exponent = 2;

async function api(path) {
  const r = await fetch("/api/v1" + path, { headers: { "Authorization": "Bearer " + token } });
  if (r.status === 401) { signedOut(); throw new Error("signed out: sign in again"); }
  const type = r.headers.get("content-type") || "";
  const data = type.startsWith("application/json") ? await r.json() : await r.text();
  if (!r.ok) throw new Error(typeof data === "string" ? data : JSON.stringify(data.detail));
  return data;
}

function money(minor) {
  const s = minor < 0 ? "-" : "", v = Math.abs(minor), d = 10 ** exponent;
  return s + Math.floor(v / d) + (exponent ? "." + String(v % d).padStart(exponent, "0") : "");
}

function el(tag, attrs, textValue) {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (textValue !== undefined) e.textContent = textValue;
  return e;
}

function fillRows(table, rows) {
  const body = $(table + " tbody"); body.replaceChildren();
  for (const cells of rows) {
    const tr = el("tr");
    for (const c of cells) { const td = el("td"); if (c instanceof Node) td.appendChild(c); else td.textContent = c; tr.appendChild(td); }
    body.appendChild(tr);
  }
}

const KPIS = [["net_sales", "Net sales"], ["refunds", "Refunds"], ["discounts", "Discounts"], ["tips", "Tips"],
              ["tax", "Tax"], ["average_ticket", "Average ticket"], ["transactions", "Transactions"]];

function kpis(d) {
  const box = $("#kpis"); box.replaceChildren();
  for (const [key, label] of KPIS) {
    const cur = d.current[key], prev = d.previous[key];
    const card = el("div", { "class": "kpi", "data-figure": key });
    card.appendChild(el("div", { "class": "label" }, label));
    card.appendChild(el("div", { "class": "value", "data-minor": cur }, key === "transactions" ? String(cur) : money(cur)));
    const pct = prev ? Math.round((cur - prev) * 100 / Math.abs(prev)) : null;
    // green when the change is good for the shop: more refunds or discounts than before is not
    const good = (cur >= prev) !== (key === "refunds" || key === "discounts");
    card.appendChild(el("div", { "class": "delta " + (cur >= prev ? "up" : "down") + (good ? " good" : " bad") },
      "previous " + (key === "transactions" ? prev : money(prev)) + (pct === null ? "" : " (" + (pct >= 0 ? "+" : "") + pct + " %)")));
    box.appendChild(card);
  }
}

function hoursChart(h) {
  const w = 640, ht = 200, pad = 24, bw = (w - 2 * pad) / 24;
  const max = Math.max(1, ...h.day_net, ...h.week_before_net);
  const svg = el("svg:svg", { width: w, height: ht + 20, viewBox: "0 0 " + w + " " + (ht + 20), role: "img" });
  h.day_net.forEach((v, i) => {
    const y = ht - Math.max(0, v) * (ht - pad) / max;
    svg.appendChild(el("svg:rect", { x: pad + i * bw + 1, y, width: bw - 2, height: ht - y, fill: "#2f6fb0",
                                    "data-hour": i, "data-minor": v }));
  });
  const pts = h.week_before_net.map((v, i) => (pad + i * bw + bw / 2) + "," + (ht - Math.max(0, v) * (ht - pad) / max));
  svg.appendChild(el("svg:polyline", { points: pts.join(" "), fill: "none", stroke: "#e08a00", "stroke-width": 2 }));
  for (let i = 0; i < 24; i += 3) svg.appendChild(el("svg:text", { x: pad + i * bw, y: ht + 14 }, String(i).padStart(2, "0") + "h"));
  $("#hours-caption").textContent = "Sales by hour, " + h.day + " (bars) against " + h.week_before + " (line)";
  $("#hours-chart").replaceChildren(svg);
}

function mixChart(mix) {
  const w = 300, rowH = 22, total = mix.reduce((a, m) => a + Math.max(0, m.amount), 0) || 1;
  const svg = el("svg:svg", { width: w, height: rowH * mix.length + 4, role: "img" });
  mix.forEach((m, i) => {
    svg.appendChild(el("svg:rect", { x: 90, y: i * rowH + 2, width: Math.max(0, m.amount) * (w - 160) / total, height: rowH - 6,
                                    fill: "#4a9d5b", "data-method": m.method, "data-minor": m.amount }));
    svg.appendChild(el("svg:text", { x: 0, y: i * rowH + 14 }, m.method));
    svg.appendChild(el("svg:text", { x: w - 66, y: i * rowH + 14 }, money(m.amount)));
  });
  $("#mix-chart").replaceChildren(svg);
}

async function download(path, name) {
  const r = await fetch("/api/v1/merchants/" + me.merchant_id + path, { headers: { "Authorization": "Bearer " + token } });
  if (!r.ok) { $("#error").textContent = "download refused: " + r.status; return; }
  const a = el("a", { href: URL.createObjectURL(await r.blob()), download: name }); a.click();
}

async function show() {
  $("#error").textContent = "";
  try {
    const q = "?day_from=" + $("#day-from").value + "&day_to=" + $("#day-to").value;
    const d = await api("/merchants/" + me.merchant_id + "/dashboard" + q);
    exponent = d.currency === "392" ? 0 : 2;
    kpis(d); hoursChart(d.hours); mixChart(d.payment_mix);
    const item = (i) => [i.name || i.sku, String(i.qty), money(i.amount)];
    fillRows("#top-items", d.top_items.map(item)); fillRows("#slow-items", d.slow_items.map(item));
    fillRows("#members", [["New", String(d.members.new)], ["Returning", String(d.members.returning)]]);
    const part = (r) => [r.name, money(r.net_sales), String(r.transactions)];
    fillRows("#by-store", d.by_store.map(part)); fillRows("#by-terminal", d.by_terminal.map(part));
    fillRows("#by-cashier", d.by_cashier.map(part));
    $("#csv").onclick = (ev) => { ev.preventDefault(); download("/dashboard/transactions.csv" + q, "transactions.csv"); };
    $("#pdf").onclick = (ev) => { ev.preventDefault(); download("/dashboard/daily-report.pdf?day=" + d.day_to, "daily-report.pdf"); };
    const sales = await api("/sales?merchant_id=" + me.merchant_id + "&day_from=" + d.day_to + "&day_to=" + d.day_to);
    fillRows("#transactions", sales.map((s) => {
      const link = el("a", { href: "#", "data-receipt": s.id }, String(s.id));
      link.onclick = async (ev) => { ev.preventDefault(); $("#receipt").textContent = await api("/sales/" + s.id + "/receipt.txt"); };
      return [link, s.terminal_time.slice(11, 16), s.kind, s.cashier, money(s.total)];
    }));
    document.body.setAttribute("data-ready", d.day_from + ".." + d.day_to);
  } catch (e) { $("#error").textContent = e.message; }
}

function signedOut() {
  token = null; sessionStorage.removeItem("smartpos-token");
  $("#app-view").hidden = true; $("#login-view").hidden = false;
}

async function signedIn() {
  me = await api("/auth/me");
  if (me.merchant_id === null) throw new Error("the back office is for a merchant's owner and staff");
  $("#who").textContent = me.username;
  $("#login-view").hidden = true; $("#app-view").hidden = false;
  const today = new Date().toISOString().slice(0, 10);
  if (!$("#day-to").value) $("#day-to").value = today;
  if (!$("#day-from").value) $("#day-from").value = new Date(Date.now() - 6 * 86400000).toISOString().slice(0, 10);
  await show();
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault(); $("#login-error").textContent = "";
  try {
    const r = await fetch("/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("#username").value, password: $("#password").value }) });
    const s = await r.json();
    if (!r.ok) throw new Error(JSON.stringify(s.detail));
    token = s.token; sessionStorage.setItem("smartpos-token", token);
    await signedIn();
  } catch (e) { $("#login-error").textContent = e.message; }
});
$("#period").addEventListener("submit", (ev) => { ev.preventDefault(); show(); });
if (token) signedIn().catch(() => signedOut()); else signedOut();
