// Call Coach dashboard: what must move without a reload. No framework, no inline script (CSP).
"use strict";
const csrf = () => document.querySelector('meta[name="csrf"]').content;

async function send(method, url, body) {
  const r = await fetch(url, {method, credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()}, body: body ? JSON.stringify(body) : undefined});
  if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); }
  return r;
}

function mmss(t) { t = Math.max(0, Math.floor(t)); return String(Math.floor(t / 60)).padStart(2, "0") + ":" + String(t % 60).padStart(2, "0"); }

// --- login -------------------------------------------------------------------------------
function loginPage() {
  const form = document.getElementById("login");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await fetch("/api/login", {method: "POST", headers: {"Content-Type": "application/json"}, credentials: "same-origin",
      body: JSON.stringify({name: form.name.value, password: form.password.value})});
    if (r.ok) { location.href = form.dataset.next || "/floor"; return; }
    document.getElementById("login-error").textContent = r.status === 429 ? "Too many tries; wait a few minutes." : "Wrong name or password.";
  });
}

// --- live floor: server-sent events, escalations to the top ------------------------------
function floorPage() {
  const box = document.getElementById("tiles");
  const threshold = parseFloat(box.dataset.threshold);
  const labels = JSON.parse(box.dataset.labels);
  const notify = document.getElementById("notify");
  notify.checked = localStorage.getItem("coach-notify") === "1";
  notify.addEventListener("change", () => {
    localStorage.setItem("coach-notify", notify.checked ? "1" : "0");
    if (notify.checked && "Notification" in window && Notification.permission === "default") Notification.requestPermission();
  });
  function beep() {
    try { const a = new AudioContext(), o = a.createOscillator(), g = a.createGain();
      o.frequency.value = 880; g.gain.value = 0.1; o.connect(g); g.connect(a.destination); o.start(); o.stop(a.currentTime + 0.25);
    } catch (e) { /* no audio device */ }
  }
  function order() {
    const tiles = [...box.querySelectorAll(".tile")];
    tiles.sort((a, b) => (b.classList.contains("escalating") - a.classList.contains("escalating")) ||
      (b.classList.contains("on-call") - a.classList.contains("on-call")) || a.dataset.name.localeCompare(b.dataset.name));
    tiles.forEach((t) => box.appendChild(t));
  }
  function update(ev) {
    const t = box.querySelector(`.tile[data-agent="${ev.agent_id}"]`);
    if (!t) return;
    const was = t.classList.contains("escalating");
    const esc = ev.on_call && ((ev.mood || 0) >= threshold || ev.cue_severity === "alert");
    t.classList.toggle("on-call", !!ev.on_call);
    t.classList.toggle("escalating", esc);
    t.dataset.duration = ev.duration_s || 0;
    t.querySelector(".status").textContent = ev.on_call ? "on a call · " + mmss(ev.duration_s || 0) : "not on a call";
    const m = ev.mood;
    t.querySelector(".mood-word").textContent = !ev.on_call || m == null ? "–" : m >= threshold ? "upset" : m >= 0.3 ? "tense" : "calm";
    t.querySelector(".trend").textContent = ev.trend === 1 ? "↑ rising" : ev.trend === -1 ? "↓ calming" : "";
    t.querySelector(".meter-fg").setAttribute("width", ev.on_call ? Math.round(Math.min(1, m || 0) * 100) : 0);
    const cue = t.querySelector(".cue");
    cue.textContent = "";
    if (ev.on_call && ev.cue) { cue.append("cue: "); const b = document.createElement("b"); b.className = "sev-" + (ev.cue_severity || "info");
      b.textContent = labels[ev.cue] || ev.cue; cue.append(b); }
    t.querySelector(".flags").textContent = ev.flags ? ev.flags + " flagged this call" : "";
    if (esc && !was) {
      order();
      if (notify.checked) {
        beep();
        if ("Notification" in window && Notification.permission === "granted") new Notification("Call escalating: " + t.dataset.name);
      }
    } else if (esc !== was) order();
  }
  const state = document.getElementById("stream-state");
  const es = new EventSource("/api/live/events");
  es.addEventListener("open", () => { state.textContent = "live"; });
  es.addEventListener("error", () => { state.textContent = "reconnecting…"; });
  es.addEventListener("live", (e) => update(JSON.parse(e.data)));
  order();
}

// --- review queue: j/k/Enter --------------------------------------------------------------
function queuePage() {
  const rows = [...document.querySelectorAll("#queue tbody tr[data-href]")];
  let i = -1;
  function select(n) {
    if (!rows.length) return;
    if (i >= 0) rows[i].classList.remove("selected");
    i = Math.max(0, Math.min(rows.length - 1, n));
    rows[i].classList.add("selected"); rows[i].focus(); rows[i].scrollIntoView({block: "nearest"});
  }
  rows.forEach((r, n) => r.addEventListener("click", (e) => { if (e.target.tagName !== "A") { select(n); location.href = r.dataset.href; } }));
  document.addEventListener("keydown", (e) => {
    if (["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName)) return;
    if (e.key === "j") select(i + 1);
    else if (e.key === "k") select(i - 1);
    else if (e.key === "Enter" && i >= 0) location.href = rows[i].dataset.href;
  });
}

// --- segment: player, timeline and transcript follow each other; review ----------------------
function segmentPage() {
  const audio = document.getElementById("audio");
  const player = document.getElementById("player");
  const dur = parseFloat(player.dataset.dur);
  const tl = document.getElementById("timeline");
  const left = parseFloat(tl.dataset.left), width = parseFloat(tl.dataset.width), right = parseFloat(tl.dataset.right);
  const lines = [...document.querySelectorAll(".line")];
  const head = document.getElementById("playhead");
  function seek(t) { if (audio) { audio.currentTime = Math.max(0, Math.min(t, dur)); audio.play(); } }
  if (audio) {
    document.getElementById("speed").addEventListener("change", (e) => { audio.playbackRate = parseFloat(e.target.value); });
    tl.addEventListener("click", (e) => {
      const box = tl.querySelector("svg").getBoundingClientRect();
      const x = (e.clientX - box.left) * (width / box.width);
      seek((x - left) / (width - left - right) * dur);
    });
    audio.addEventListener("timeupdate", () => {
      const t = audio.currentTime;
      const x = left + (width - left - right) * t / dur;
      head.setAttribute("x1", x); head.setAttribute("x2", x);
      lines.forEach((l) => l.classList.toggle("current", t >= parseFloat(l.dataset.t) && t < parseFloat(l.dataset.end)));
      const cur = document.querySelector(".line.current");
      if (cur) cur.scrollIntoView({block: "nearest"});
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === " " && !["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(e.target.tagName)) {
        e.preventDefault(); audio.paused ? audio.play() : audio.pause();
      }
    });
  }
  lines.forEach((l) => l.addEventListener("click", () => seek(parseFloat(l.dataset.t))));
  const form = document.getElementById("review");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await send("POST", `/api/segments/${encodeURIComponent(form.dataset.id)}/review`, {note: form.note.value});
    document.getElementById("review-state").textContent = r.ok ? "reviewed just now" : "could not save (" + r.status + ")";
    if (r.ok) form.querySelector("button").textContent = "Update review";
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const out = document.getElementById("logout");
  if (out) out.addEventListener("click", async () => { await send("POST", "/api/logout"); location.href = "/login"; });
  ({login: loginPage, floor: floorPage, queue: queuePage, segment: segmentPage}[document.body.dataset.page] || (() => {}))();
});
