// The programme of the day, live: fills every [data-programme-now] panel from /programme.json,
// ticks the countdown every second (against the server's clock), shows how far the day runs
// behind, and refetches on "programme" and "round" events from the page's live socket: /ws on
// signed-in pages, the one named by <body data-live-url> on the plenary screens (the public
// /plenary/ws, a display link's socket); a page without one polls.
const body = document.body;
let data = null;
let offset = 0; // server time minus this browser's time, in ms
const POLL_LIVE_MS = 60000;
const POLL_PUBLIC_MS = 5000;
const liveUrl = body.dataset.liveUrl || (body.dataset.live === "1" ? "/ws" : "");

function texts(root) {
  const node = root.querySelector("[data-programme-text]");
  try { return node ? JSON.parse(node.textContent) : {}; } catch { return {}; }
}

function fill(template, values) {
  return String(template || "").replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

function item(row) {
  const li = document.createElement("li");
  const time = Object.assign(document.createElement("span"), { className: "programme-time", textContent: row.start });
  li.append(time, document.createTextNode(` ${row.title}`));
  return li;
}

function renderSchedule(table) {
  const tbody = table.tBodies[0];
  if (!tbody || !data) return;
  tbody.replaceChildren(...data.items.map((row) => {
    const tr = document.createElement("tr");
    tr.dataset.item = String(row.id);
    tr.dataset.status = row.status;
    if (row.status === "current") tr.setAttribute("aria-current", "step");
    const when = Object.assign(document.createElement("td"), { textContent: `${row.start}–${row.end}` });
    const what = Object.assign(document.createElement("td"), { textContent: `${row.title} ` });
    what.append(Object.assign(document.createElement("span"), { className: "programme-kind", textContent: row.kind_label || row.kind }));
    const minutes = Object.assign(document.createElement("td"), {
      textContent: String(row.duration_minutes) + (row.extended_minutes ? ` (+${row.extended_minutes})` : ""),
    });
    tr.append(when, what, minutes);
    return tr;
  }));
}

function render() {
  if (!data) return;
  for (const root of document.querySelectorAll("[data-programme-now]")) {
    const t = texts(root);
    const current = data.current;
    root.dataset.status = data.status;
    root.dataset.item = current ? String(current.id) : "";
    const title = root.querySelector("[data-programme-title]");
    if (title) {
      title.textContent = current ? current.title : data.status === "finished" ? t.finished : t.notStarted;
    }
    const list = root.querySelector("[data-programme-next]");
    if (list) list.replaceChildren(...data.next.map(item));
  }
  for (const table of document.querySelectorAll("table[data-programme-schedule]")) renderSchedule(table);
  tick();
}

function tick() {
  for (const root of document.querySelectorAll("[data-programme-now]")) {
    const t = texts(root);
    const countdown = root.querySelector("[data-programme-countdown]");
    const behind = root.querySelector("[data-programme-behind]");
    const current = data && data.current;
    if (!current) {
      if (countdown) { countdown.textContent = ""; delete countdown.dataset.remaining; }
      if (behind) behind.hidden = true;
      continue;
    }
    const now = Date.now() + offset;
    const ends = Date.parse(current.ends_at);
    const paused = current.paused_at ? Date.parse(current.paused_at) : null;
    const remaining = (ends - (paused ?? now)) / 1000;
    if (countdown) {
      countdown.dataset.remaining = String(Math.floor(remaining));
      countdown.dataset.over = remaining < 0 ? "1" : "0";
      countdown.textContent = paused
        ? fill(t.paused, { time: clock(remaining) })
        : remaining >= 0 ? fill(t.endsIn, { time: clock(remaining) }) : fill(t.overTime, { time: clock(-remaining) });
    }
    if (behind) {
      // The item ends later by however long it has been paused so far.
      const effectiveEnd = ends + (paused ? now - paused : 0);
      const late = Math.floor((Math.max(effectiveEnd, now) - Date.parse(current.planned_end_at)) / 60000);
      behind.hidden = late <= 0;
      behind.dataset.minutes = String(Math.max(0, late));
      behind.textContent = late > 0 ? fill(t.behind, { n: late }) : "";
    }
  }
}

async function refresh() {
  const started = Date.now();
  const response = await fetch("/programme.json", { headers: { accept: "application/json" }, cache: "no-store" });
  if (!response.ok) return;
  const fresh = await response.json();
  const arrived = Date.now();
  offset = Date.parse(fresh.server_time) - (started + arrived) / 2;
  data = fresh;
  render();
}

function connect(attempt = 0) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${liveUrl}`);
  socket.addEventListener("open", () => {
    attempt = 0;
    body.dataset.programmeLive = "1";
    refresh().catch(() => {});
  });
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "programme" || event.type === "round") refresh().catch(() => {});
  });
  socket.addEventListener("close", () => {
    body.dataset.programmeLive = "0";
    const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    setTimeout(() => connect(attempt + 1), delay);
  });
}

// A page that includes the panel twice still runs one clock and one connection.
if (!window.__programmeLive && document.querySelector("[data-programme-now]")) {
  window.__programmeLive = true;
  refresh().catch(() => {});
  setInterval(tick, 1000);
  const live = Boolean(liveUrl) && "WebSocket" in window;
  if (live) connect();
  else body.dataset.programmeLive = "poll";
  setInterval(() => refresh().catch(() => {}), live ? POLL_LIVE_MS : POLL_PUBLIC_MS);
}
