// The terminal face: posts controls, follows server-sent state events.
"use strict";
const $ = (id) => document.getElementById(id);
const seen = { apdu: 0, iso8583: 0 };
let displayVersion = null;
let receiptAsked = 0;             // answers can come back out of order: show only the newest

// the per-session token the server put in the page; every POST carries it
const token = document.querySelector('meta[name="smartpos-token"]').content;

async function post(path, body) {
  $("message").textContent = "";
  const r = await fetch(path, { method: "POST",
                                headers: { "Content-Type": "application/json", "X-Smartpos-Token": token },
                                body: JSON.stringify(body || {}) });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) { $("message").textContent = j.error || ("error " + r.status); }
  return j;
}

function refreshImages() {
  const t = Date.now();
  $("display").src = "/display.png?t=" + t;
  $("roll").src = "/printer.png?t=" + t;
  const asked = ++receiptAsked;
  fetch("/printer.txt").then((r) => r.ok ? r.text() : "").then((s) => {
    if (asked === receiptAsked) $("receipt").textContent = s;
  });
}

async function refreshTrace(kind) {
  const r = await fetch("/api/trace/" + kind + "?since=" + seen[kind]);
  if (!r.ok) return;
  const items = await r.json();
  const pre = $("trace-" + kind);
  for (const it of items) {
    seen[kind] = it.seq;
    pre.textContent += (it.dir === "out" ? "→ " : "← ") + it.data + "\n";
  }
  pre.scrollTop = pre.scrollHeight;
}

function applyState(st) {
  const d = st.devices || {};
  const leds = (d.leds && d.leds.leds) || [];
  for (let i = 0; i < 4; i++) $("led" + (i + 1)).classList.toggle("on", !!leds[i]);
  $("buzzer").classList.toggle("on", !!(d.buzzer && d.buzzer.sounding));
  $("power").textContent = st.powered ? "power on" : "power off";
  $("power").className = "badge " + (st.powered ? "on" : "off");
  $("drawer").textContent = st.drawer_open ? "drawer OPEN" : "drawer closed";
  refreshImages();
  for (const k of Object.keys(seen)) if ((st.trace_seq || {})[k] > seen[k]) refreshTrace(k);
}

function connect() {
  const es = new EventSource("/events");
  es.addEventListener("state", (e) => { $("conn").textContent = "live"; applyState(JSON.parse(e.data)); });
  es.onerror = () => { $("conn").textContent = "reconnecting…"; };
}

document.querySelectorAll("#keypad button").forEach((b) =>
  b.addEventListener("click", () => post("/api/key", { key: b.dataset.key })));
const profile = () => $("profile").value;
$("insert").onclick = () => post("/api/card", { action: "insert", profile: profile() });
$("remove").onclick = () => post("/api/card", { action: "remove" });
$("tap").onclick = () => post("/api/card", { action: "tap", profile: profile() });
$("lift").onclick = () => post("/api/card", { action: "lift" });
$("swipe").onclick = () => post("/api/swipe", { profile: profile() });
$("scan").onclick = () => post("/api/scan", { code: $("code").value });
$("close-drawer").onclick = () => post("/api/drawer", { action: "close" });
$("paper-out").onclick = () => post("/api/printer", { action: "paper_out" });
$("load-paper").onclick = () => post("/api/printer", { action: "load_paper" });
$("open-cover").onclick = () => post("/api/printer", { action: "open_cover" });
$("close-cover").onclick = () => post("/api/printer", { action: "close_cover" });
$("tear-off").onclick = () => post("/api/printer", { action: "tear_off" });
$("power-cut").onclick = () => post("/api/power", { action: "cut" });
$("power-on").onclick = () => post("/api/power", { action: "on" });

// the card list: each profile's description and TEST PIN; the first (an approving card) chosen
let cards = [];
function showCard() {
  const c = cards.find((x) => x.name === profile());
  $("profile-note").textContent = c ? (c.description + (c.pin ? " — TEST PIN " + c.pin : " — no PIN")) : "";
}
fetch("/api/profiles").then((r) => r.json()).then((list) => {
  cards = list;
  for (const c of list) {
    const o = document.createElement("option");
    o.value = c.name;
    o.textContent = c.name + (c.pin ? " (PIN " + c.pin + ")" : "");
    o.title = c.description;
    $("profile").appendChild(o);
  }
  if (list.length) $("profile").value = list[0].name;
  showCard();
});
$("profile").addEventListener("change", showCard);
$("wallet-pay").onclick = async () => {
  const j = await post("/api/wallet/pay", {});
  if (j.paid) $("message").textContent = "wallet paid order " + j.paid.order + " (" + j.paid.txn + ")";
};
connect();
