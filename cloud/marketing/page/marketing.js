// smartpos back office: the merchant's idle-screen campaigns over /api/v1 (cloud.marketing.router);
// nothing is fetched from elsewhere.
"use strict";
const $ = (s) => document.querySelector(s);
let token = sessionStorage.getItem("smartpos-token");
let me = null;
let stores = [];

async function api(path, method, body, type) {
  const headers = { "Authorization": "Bearer " + token };
  if (body !== undefined) headers["Content-Type"] = type || "application/json";
  const r = await fetch("/api/v1" + path, { method: method || "GET", headers,
    body: body === undefined ? undefined : (type ? body : JSON.stringify(body)) });
  if (r.status === 401) { signedOut(); throw new Error("signed out: sign in again"); }
  const data = (r.headers.get("content-type") || "").startsWith("application/json") ? await r.json() : await r.text();
  if (!r.ok) {
    const d = typeof data === "string" ? data : data.detail;
    throw new Error(typeof d === "string" ? d : (d || []).map((p) => p.msg).join("; "));
  }
  return data;
}

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function say(text) { $("#notice").textContent = text; $("#error").textContent = ""; }
function fail(e) { $("#error").textContent = e.message; $("#notice").textContent = ""; }

async function picture(c) {
  if (!c.image) return el("span", {}, "none");
  const r = await fetch("/api/v1/campaigns/" + c.id + "/image.png", { headers: { "Authorization": "Bearer " + token } });
  return el("img", { class: "picture", alt: "picture of " + c.name, src: URL.createObjectURL(await r.blob()) });
}

async function show() {
  document.body.removeAttribute("data-ready");
  const list = await api("/merchants/" + me.merchant_id + "/campaigns");
  const names = Object.fromEntries(stores.map((s) => [s.id, s.name]));
  const body = $("#campaigns tbody"); body.replaceChildren();
  for (const c of list) {
    const tr = el("tr", { "data-campaign": c.id });
    const cells = [c.name, c.lines.join(" / "), c.starts_at, c.ends_at, c.hour_from + "-" + c.hour_to,
      c.store_ids === null ? "all" : c.store_ids.map((i) => names[i] || i).join(", ")];
    for (const t of cells) tr.appendChild(el("td", {}, t));
    const td = el("td"); td.appendChild(await picture(c)); tr.appendChild(td);
    tr.appendChild(el("td", {}, c.active ? "active" : "ended"));
    const act = el("td");
    if (c.active) {
      const b = el("button", { type: "button" }, "End");
      b.addEventListener("click", async () => {
        try { await api("/campaigns/" + c.id, "DELETE"); say("campaign " + c.name + " ended"); await show(); } catch (e) { fail(e); }
      });
      act.appendChild(b);
    }
    tr.appendChild(act);
    body.appendChild(tr);
  }
  document.body.setAttribute("data-ready", "campaigns");
}

$("#campaign-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const chosen = [...$("#c-stores").selectedOptions].map((o) => Number(o.value));
  const lines = $("#c-lines").value.split("\n").map((s) => s.trim()).filter((s) => s);
  try {
    const c = await api("/merchants/" + me.merchant_id + "/campaigns", "POST", { name: $("#c-name").value, lines,
      starts_at: $("#c-start").value, ends_at: $("#c-end").value, hour_from: Number($("#c-hfrom").value),
      hour_to: Number($("#c-hto").value), store_ids: chosen.length ? chosen : null });
    const file = $("#c-image").files[0];
    if (file) {
      try { await api("/campaigns/" + c.id + "/image", "PUT", file, file.type || "application/octet-stream"); }
      catch (e) { await show(); throw new Error("campaign created without its picture: " + e.message); }
    }
    say("campaign " + c.name + " created: the terminals show it at their next sync");
    await show();
  } catch (e) { fail(e); document.body.setAttribute("data-ready", "campaigns"); }
});

function signedOut() {
  token = null; sessionStorage.removeItem("smartpos-token");
  $("#app-view").hidden = true; $("#login-view").hidden = false;
}

async function signedIn() {
  me = await api("/auth/me");
  if (me.merchant_id === null) throw new Error("the back office is for a merchant's owner and staff");
  $("#who").textContent = me.username;
  stores = await api("/stores");
  $("#c-stores").replaceChildren(...stores.map((s) => el("option", { value: s.id }, s.name)));
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
