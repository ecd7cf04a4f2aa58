// omnidsl market dashboard: polls /api/state and renders it.  Chain data is written with
// textContent only (never innerHTML): an address, a reason or a number cannot become markup.
"use strict";

const POLL_MS = 1000;
let shown = -1;

function eth(wei) {
  if (wei === null || wei === undefined) return "–";
  const v = BigInt(wei);
  const unit = 10n ** 18n;
  const whole = v / unit;
  const frac = (v % unit).toString().padStart(18, "0").slice(0, 6).replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : `${whole}`;
}

function short(addr) {
  return addr ? `${addr.slice(0, 8)}…${addr.slice(-4)}` : "–";
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function addrCell(addr) {
  const td = el("td", short(addr), "addr");
  td.title = addr || "";
  return td;
}

function num(text) {
  return el("td", text, "num");
}

function setText(id, text) {
  document.getElementById(id).textContent = String(text);
}

function fill(tableId, rows, make) {
  const body = document.querySelector(`#${tableId} tbody`);
  const fresh = document.createElement("tbody");
  for (const r of rows) fresh.appendChild(make(r));
  body.replaceWith(fresh);
}

function taskRow(t) {
  const tr = document.createElement("tr");
  tr.dataset.task = String(t.id);
  tr.appendChild(el("td", t.round === null ? "–" : t.round));
  tr.appendChild(el("td", t.id));
  tr.appendChild(el("td", t.status));
  tr.appendChild(num(eth(t.escrow)));
  tr.appendChild(num(eth(t.remaining)));
  tr.appendChild(num(`${t.delivered}/${t.servers.length}`));
  const acc = el("td", null, "accepted");
  acc.appendChild(el("span", t.accepted.length, "ok"));
  for (const a of t.accepted) {
    const s = el("div", short(a), "addr");
    s.title = a;
    acc.appendChild(s);
  }
  tr.appendChild(acc);
  const ref = el("td", null, "refused");
  ref.appendChild(el("span", t.refused.length, "no"));
  for (const r of t.refused) {
    const d = el("div", null, "reason");
    const a = el("span", short(r.account), "addr");
    a.title = r.account;
    d.appendChild(a);
    d.appendChild(document.createTextNode(`: ${r.reason} `));
    d.appendChild(el("span", `(${r.where})`, "where"));
    ref.appendChild(d);
  }
  tr.appendChild(ref);
  tr.appendChild(num(t.batch_gas.toLocaleString("en")));
  tr.appendChild(num(t.commit_gas.toLocaleString("en")));
  tr.appendChild(num(eth(t.rewards_paid)));
  tr.appendChild(num(eth(t.fees_paid)));
  tr.appendChild(num(eth(t.reclaimed)));
  tr.appendChild(el("td", t.binding === null ? "–" : (t.binding ? "ok" : "FAIL"),
                    t.binding === false ? "no" : "ok"));
  tr.appendChild(num(t.accuracy === null ? "–" : t.accuracy.toFixed(3)));
  return tr;
}

function ownerRow(p) {
  const tr = document.createElement("tr");
  tr.appendChild(addrCell(p.account));
  tr.appendChild(num(p.accepted));
  tr.appendChild(num(p.refused));
  tr.appendChild(num(eth(p.earned)));
  tr.appendChild(num(eth(p.withdrawn)));
  return tr;
}

function serverRow(p) {
  const tr = document.createElement("tr");
  tr.appendChild(addrCell(p.account));
  tr.appendChild(num(p.tasks.length));
  tr.appendChild(num(p.delivered));
  tr.appendChild(num(eth(p.earned)));
  tr.appendChild(num(eth(p.withdrawn)));
  tr.appendChild(num(eth(p.forfeited)));
  return tr;
}

function paymentRow(p) {
  const tr = document.createElement("tr");
  tr.appendChild(num(p.block));
  tr.appendChild(el("td", p.kind));
  tr.appendChild(addrCell(p.account));
  tr.appendChild(num(eth(p.amount)));
  tr.appendChild(num(p.task === null ? "–" : p.task));
  return tr;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function drawAccuracy(tasks) {
  const box = document.getElementById("accuracy");
  while (box.firstChild) box.removeChild(box.firstChild);
  const pts = tasks.filter((t) => t.accuracy !== null);
  if (!pts.length) {
    box.appendChild(svg("text", { x: 10, y: 20 }, "no round reported yet"));
    return;
  }
  const ys = pts.map((t) => t.accuracy);
  let lo = Math.min(...ys), hi = Math.max(...ys);
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const W = 600, H = 160, L = 40, R = 10, T = 10, B = 24;
  const x = (i) => L + (pts.length === 1 ? (W - L - R) / 2 : i * (W - L - R) / (pts.length - 1));
  const y = (v) => T + (hi - v) * (H - T - B) / (hi - lo);
  box.appendChild(svg("text", { x: 2, y: T + 8 }, hi.toFixed(3)));
  box.appendChild(svg("text", { x: 2, y: H - B }, lo.toFixed(3)));
  box.appendChild(svg("polyline", {
    class: "line", points: pts.map((t, i) => `${x(i)},${y(t.accuracy)}`).join(" "),
  }));
  pts.forEach((t, i) => {
    box.appendChild(svg("circle", { class: "dot", cx: x(i), cy: y(t.accuracy), r: 3 }));
    box.appendChild(svg("text", { x: x(i) - 10, y: H - 6 },
                        `r${t.round === null ? "?" : t.round}`));
  });
}

function render(s) {
  setText("chain", s.chain_id === null ? "–" : `id ${s.chain_id}`);
  setText("market", s.market || "waiting for the market contract");
  setText("block", s.block < 0 ? "–" : s.block);
  setText("source", s.source || "–");
  setText("t-tasks", s.totals.tasks);
  setText("t-held", eth(s.total_held));
  setText("t-accepted", s.totals.accepted);
  setText("t-refused", s.totals.refused);
  setText("t-rewards", eth(s.totals.rewards));
  setText("t-fees", eth(s.totals.fees));
  setText("t-reclaimed", eth(s.totals.reclaimed));
  fill("tasks", s.tasks, taskRow);
  fill("owners", s.owners, ownerRow);
  fill("servers", s.servers, serverRow);
  fill("payments", s.payments.slice().reverse(), paymentRow);
  drawAccuracy(s.tasks);
  document.body.dataset.version = String(s.version);
}

function status(text, bad) {
  const p = document.getElementById("status");
  p.textContent = text;
  p.className = bad ? "status error" : "status";
}

async function tick() {
  try {
    const res = await fetch("/api/state", { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const s = await res.json();
    if (s.version !== shown) {
      render(s);
      shown = s.version;
    }
    const when = new Date(s.time * 1000).toLocaleTimeString();
    if (s.error) status(`chain unreachable (${s.error}); last data shown`, true);
    else status(`live · updated ${when}`, false);
  } catch (err) {
    status(`dashboard server unreachable (${err.message}); retrying`, true);
  }
  setTimeout(tick, POLL_MS);
}

tick();
