// The moderator's view of the online tables: calls and round changes at once (over /ws), speaking
// time re-read every few seconds, actions without a page reload, and listening in at a table
// through /ws/video (protocol v1, receive only).
const root = document.getElementById("moderator-video");
const text = JSON.parse(document.getElementById("video-text").textContent);
const csrf = document.body.dataset.csrf;
const state = { data: null, ws: null, pc: null, nextId: 1, pending: new Map(), clockOffset: 0 };

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_m, key) => String(values[key] ?? ""));
}

async function post(form, submitter) {
  const body = new FormData(form);
  if (submitter?.name) body.set(submitter.name, submitter.value);
  const response = await fetch(form.action, {
    method: "POST", body, headers: { accept: "application/json", "X-CSRF-Token": csrf },
  });
  const result = await response.json().catch(() => ({}));
  document.getElementById("action-result").textContent = response.ok ? text.done : (result.error || "");
  return response.ok ? result : null;
}

async function refresh() {
  const response = await fetch("/moderator/video.json", { headers: { accept: "application/json" } });
  if (!response.ok) return;
  const data = await response.json();
  state.data = data;
  state.clockOffset = Date.parse(data.now) - Date.now();
  for (const table of data.tables) {
    const card = document.querySelector(`[data-table="${table.number}"]`);
    if (!card) continue;
    card.querySelector("[data-connected]").textContent = String(table.connected);
    card.querySelector("[data-gini]").textContent = table.gini === null ? "–" : table.gini.toFixed(2);
    const silent = table.members.filter((m) => m.connected && m.silent).map((m) => m.name);
    // "nobody" only where people are online: an empty table has no one to be silent.
    card.querySelector("[data-silent]").textContent =
      table.connected === 0 ? "–" : silent.length ? silent.join(", ") : text.nobody;
    for (const member of table.members) {
      const item = card.querySelector(`[data-member="${member.media_id}"]`);
      if (!item) continue;
      item.className = member.connected ? "online-dot" : "offline-dot";
      item.dataset.connected = member.connected ? "1" : "0";
    }
  }
  renderCalls(data.calls);
  for (const input of document.querySelectorAll("[data-round-number]")) {
    if (data.round) input.value = String(data.round.number);
  }
}

function renderCalls(calls) {
  const list = document.querySelector("[data-calls]");
  list.replaceChildren();
  if (!calls.length) {
    const item = document.createElement("li");
    item.className = "muted";
    item.textContent = text.noCalls;
    list.append(item);
  }
  for (const call of calls) {
    const item = document.createElement("li");
    item.textContent = `${format(text.table, { number: call.table })} · ${call.at_text} `;
    if (call.answered_by) {
      item.append(`— ${format(text.taken, { who: call.answered_by })}`);
    } else {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = text.go;
      button.addEventListener("click", async () => {
        const form = document.createElement("form");
        form.action = `/moderator/video/calls/${call.seq}/answer`;
        await post(form);
        refresh();
      });
      item.append(button);
    }
    list.append(item);
  }
}

function tick() {
  const node = document.querySelector("[data-round-timer]");
  const round = state.data?.round;
  if (!round?.ends_at) { node.textContent = ""; return; }
  const left = Math.round((Date.parse(round.ends_at) - (Date.now() + state.clockOffset)) / 1000);
  node.textContent = left <= 0 ? `— ${text.timeUp}`
    : `— ${format(text.timeLeft, { time: `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}` })}`;
}

// --- listening in ------------------------------------------------------------------------

function socket() {
  if (state.ws && state.ws.readyState <= WebSocket.OPEN) return Promise.resolve(state.ws);
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/video`);
    state.ws = ws;
    ws.addEventListener("open", () => resolve(ws));
    ws.addEventListener("close", () => { if (state.ws === ws) state.ws = null; reject(new Error("closed")); });
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      const waiting = state.pending.get(message.re);
      if (waiting) {
        state.pending.delete(message.re);
        if (message.type === "error") waiting.reject(new Error(message.message));
        else waiting.resolve(message);
      } else if (message.type === "layout") {
        showLayout(message.slots);
      } else if (message.type === "reconnect") {
        listen().catch(() => {});
      }
    });
  });
}

async function request(type, sdp) {
  const ws = await socket();
  if (ws.readyState !== WebSocket.OPEN) await new Promise((r) => ws.addEventListener("open", r, { once: true }));
  const id = state.nextId++;
  return new Promise((resolve, reject) => {
    state.pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ v: 1, type, id, sdp }));
  });
}

async function listen() {
  state.pc?.close();
  const pc = new RTCPeerConnection({ iceServers: state.data?.ice_servers || [], bundlePolicy: "max-bundle" });
  state.pc = pc;
  const count = state.data?.slots || 8;
  const video = [];
  const audio = [];
  for (let i = 0; i < count; i++) video.push(pc.addTransceiver("video", { direction: "recvonly" }));
  for (let i = 0; i < count; i++) audio.push(pc.addTransceiver("audio", { direction: "recvonly" }));
  const list = document.getElementById("visit-tiles");
  list.replaceChildren();
  for (let i = 0; i < count; i++) {
    const item = document.createElement("li");
    item.className = "video-tile";
    item.hidden = true;
    const media = document.createElement("video");
    media.autoplay = true;
    media.playsInline = true;
    media.srcObject = new MediaStream([video[i].receiver.track, audio[i].receiver.track]);
    const label = document.createElement("span");
    label.className = "video-name";
    item.append(media, label);
    list.append(item);
  }
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== "complete") {
    await new Promise((resolve) => {
      pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") resolve(); });
      setTimeout(resolve, 3000);
    });
  }
  const answer = await request("subscribe", pc.localDescription.sdp);
  await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
}

function showLayout(slots) {
  const names = new Map();
  for (const table of state.data?.tables || []) for (const m of table.members) names.set(m.media_id, m.name);
  const items = document.querySelectorAll("#visit-tiles li");
  slots.forEach((slot, i) => {
    const item = items[i];
    if (!item) return;
    item.hidden = !slot.participant_id;
    item.querySelector(".video-name").textContent = names.get(slot.participant_id) || "";
    if (slot.participant_id) item.querySelector("video").play().catch(() => {});
  });
}

for (const form of document.querySelectorAll("form[data-action-form]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await post(form, event.submitter);
    refresh();
  });
}

for (const form of document.querySelectorAll("form[data-visit-form]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = await post(form, event.submitter);
    if (!result) return;
    const status = document.getElementById("visit-status");
    const panel = document.getElementById("visit-panel");
    if (result.visiting) {
      status.textContent = format(text.visiting, { number: result.visiting });
      panel.hidden = false;
      root.dataset.state = "visiting";
      await listen().catch(() => {});
    } else {
      status.textContent = text.visitEnded;
      panel.hidden = true;
      root.dataset.state = "idle";
      state.pc?.close();
      state.pc = null;
    }
  });
}

// Calls, answers, rounds and moves arrive at once over /ws; speaking time changes all the time,
// so the table cards are also re-read every few seconds.
const LIVE_EVENTS = new Set(["video.call", "video.answer", "round", "seating", "broadcast"]);
let pending = null;
function refreshSoon() {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    refresh().then(() => { root.dataset.refreshedBy = "event"; }).catch(() => {});
  }, 150);
}

function live(attempt = 0) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("open", () => {
    root.dataset.live = "1";
    if (attempt > 0) refreshSoon();
    attempt = 0;
  });
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (LIVE_EVENTS.has(event.type)) refreshSoon();
  });
  socket.addEventListener("close", () => {
    root.dataset.live = "0";
    setTimeout(() => live(attempt + 1), Math.min(30000, 500 * 2 ** attempt));
  });
}

setInterval(tick, 1000);
setInterval(() => refresh().then(() => { root.dataset.refreshedBy = "poll"; }).catch(() => {}), 5000);
refresh().catch(() => {});
if ("WebSocket" in window) live();
