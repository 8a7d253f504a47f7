// The participant's video table: camera preview, one upload and one download connection to the
// media plane through /ws/video (signalling protocol v1, docs/media.md), tiles for the table's
// members, the round timer, broadcasts and the moderator's visits. No build step, no library.
// The page says where to ask (data attributes of #video-app, defaults: the summit's tables):
// data-config (who sits where: /me/video.json), data-socket (signalling: /ws/video),
// data-events (the summit's live events: /ws; empty for none) and data-refresh (seconds between
// asking again while not joined; none by default). An online workshop meeting's room uses the
// same script with its own URLs (/forum/meetings/{id}/video).
const app = document.getElementById("video-app");
const CONFIG_URL = app.dataset.config || "/me/video.json";
const SOCKET_PATH = app.dataset.socket || "/ws/video";
const EVENTS_PATH = app.dataset.events ?? "/ws";
const REFRESH_SECONDS = Number(app.dataset.refresh || 0);
const text = JSON.parse(document.getElementById("video-text").textContent);
const $ = (id) => document.getElementById(id);
const history = []; // state changes, for diagnosis (window.summitVideo.history)

const PROFILES = {
  normal: { width: 640, height: 360, frameRate: 15, maxBitrate: 450_000 },
  low: { width: 320, height: 180, frameRate: 15, maxBitrate: 160_000 },
  audio: null,
};
const AUDIO_BITRATE = 32_000;

const state = {
  info: null, ws: null, pub: null, sub: null, stream: null, joined: false, muted: false,
  cameraOff: false, attempt: 0, nextId: 1, pending: new Map(), layout: [], tableId: null,
  movingTo: null, clockOffset: 0, slots: [], negotiating: null,
};

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_m, key) => String(values[key] ?? ""));
}

function setStatus(key, values = {}, stateName = key) {
  app.dataset.state = stateName;
  history.push(`${Math.round(performance.now())} ${stateName}`);
  $("video-status").textContent = text[key] ? format(text[key], values) : "";
}

// --- what the server says about our seat ---------------------------------------------------

async function loadInfo() {
  const response = await fetch(CONFIG_URL, { headers: { accept: "application/json" } });
  if (!response.ok) return;
  const info = await response.json();
  const previous = state.info?.table?.number;
  state.info = info;
  history.push(`${Math.round(performance.now())} info ${info.table?.number}`);
  state.clockOffset = Date.parse(info.now) - Date.now();
  const tableNode = document.querySelector("[data-video-table]");
  const roundNode = document.querySelector("[data-video-round]");
  if (tableNode) {
    tableNode.textContent = info.table ? format(text.table, { number: info.table.number }) : text.noTable;
  }
  if (roundNode) roundNode.textContent = info.round ? format(text.round, { number: info.round.number }) : "";
  $("video-join").disabled = !info.table || state.joined;
  if (!info.table) {
    if (state.joined) await leave(false);
    setStatus("noSeat", {}, "no-seat");
    if (info.notice) $("video-status").textContent = info.notice; // e.g. when a room opens
  } else if (state.joined && previous !== undefined && previous !== info.table.number) {
    startMoving(info.table.number);
  } else if (!state.joined && app.dataset.state === "no-seat") {
    setStatus("", {}, "idle");
  }
  renderNames();
}

function startMoving(number) {
  state.movingTo = number;
  setStatus("moving", { number }, "moving");
  clearTimeout(state.movingTimer);
  // the new layout may already be here; otherwise wait for it (at most 10 s)
  const here = state.tableId && state.tableId === state.info?.table?.media_id;
  state.movingTimer = setTimeout(() => { if (state.movingTo !== null) arrived(); }, here ? 1500 : 10_000);
}

function arrived() {
  state.movingTo = null;
  if (state.joined) setStatus("live", {}, "live");
}

function nameOf(mediaId) {
  if (!mediaId) return "";
  if (mediaId.startsWith("s")) return text.moderator;
  const member = state.info?.members.find((m) => m.media_id === mediaId);
  return member ? member.name + (member.is_host ? ` (${text.host})` : "") : "…";
}

// --- the round timer ---------------------------------------------------------------------

function tick() {
  const node = document.querySelector("[data-round-timer]");
  if (!node) return;
  const round = state.info?.round;
  node.classList.remove("closing");
  if (!round) { node.textContent = ""; return; }
  if (round.status === "planned") { node.textContent = "— " + text.notStarted; return; }
  if (round.status === "closed") { node.textContent = "— " + text.between; return; }
  if (!round.ends_at) { node.textContent = ""; return; }
  const left = Math.round((Date.parse(round.ends_at) - (Date.now() + state.clockOffset)) / 1000);
  if (left <= 0) { node.textContent = "— " + text.timeUp; return; }
  const time = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  node.textContent = "— " + format(left <= 120 ? text.closing : text.timeLeft, { time });
  if (left <= 120) node.classList.add("closing");
}

// --- camera and microphone ------------------------------------------------------------------

async function getStream() {
  const mode = $("video-quality").value;
  const profile = PROFILES[mode];
  const camera = $("video-camera").value;
  const microphone = $("video-microphone").value;
  const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  if (microphone) audio.deviceId = { exact: microphone };
  const video = profile ? {
    width: { ideal: profile.width }, height: { ideal: profile.height },
    frameRate: { ideal: profile.frameRate, max: profile.frameRate },
  } : false;
  if (video && camera) video.deviceId = { exact: camera };
  const stream = await navigator.mediaDevices.getUserMedia({ audio, video });
  for (const track of stream.getAudioTracks()) track.enabled = !state.muted;
  for (const track of stream.getVideoTracks()) track.enabled = !state.cameraOff;
  return stream;
}

async function fillDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [id, kind] of [["video-camera", "videoinput"], ["video-microphone", "audioinput"]]) {
    const select = $(id);
    const chosen = select.value;
    select.replaceChildren();
    devices.filter((d) => d.kind === kind).forEach((d, i) => {
      const option = new Option(d.label || `${kind} ${i + 1}`, d.deviceId);
      select.append(option);
    });
    if (chosen) select.value = chosen;
  }
}

async function startPreview() {
  try {
    if (state.stream) for (const t of state.stream.getTracks()) t.stop();
    state.stream = await getStream();
    $("video-preview").srcObject = state.stream;
    await fillDevices();
    if (!state.joined) setStatus("previewOn", {}, app.dataset.state === "no-seat" ? "no-seat" : "idle");
    return true;
  } catch (error) {
    setStatus("cameraError", {}, "error");
    return false;
  }
}

// --- signalling --------------------------------------------------------------------------

function openSocket() {
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}${SOCKET_PATH}`);
    state.ws = ws;
    ws.addEventListener("open", () => { state.attempt = 0; resolve(ws); });
    ws.addEventListener("message", (event) => onServerMessage(JSON.parse(event.data)));
    ws.addEventListener("close", (event) => {
      for (const { reject: fail } of state.pending.values()) fail(new Error("closed"));
      state.pending.clear();
      if (state.ws !== ws) return;
      state.ws = null;
      reject(new Error("closed"));
      if (event.code === 4409) { setStatus("replaced", {}, "replaced"); state.joined = false; return; }
      if (event.code === 4423) { // the room is not open (any more): its reason says when it is
        leave(false);
        setStatus("noSeat", {}, "no-seat");
        if (event.reason) $("video-status").textContent = event.reason;
        loadInfo();
        return;
      }
      if (state.joined) reconnectLater();
    });
  });
}

function request(type, sdp) {
  const id = state.nextId++;
  return new Promise((resolve, reject) => {
    state.pending.set(id, { resolve, reject });
    state.ws.send(JSON.stringify({ v: 1, type, id, sdp }));
  });
}

function onServerMessage(message) {
  if (message.re !== undefined && state.pending.has(message.re)) {
    const { resolve, reject } = state.pending.get(message.re);
    state.pending.delete(message.re);
    if (message.type === "error") reject(Object.assign(new Error(message.message), message));
    else resolve(message);
    return;
  }
  switch (message.type) {
    case "layout": onLayout(message); break;
    case "visitor": $("video-visitor").hidden = !message.present; break;
    case "reconnect":
      // the table lives on another media worker (or that worker restarted): negotiate again
      history.push(`${Math.round(performance.now())} reconnect ${message.reason}`);
      if (state.joined) negotiate().catch(() => reconnectLater());
      break;
    case "speaking": onSpeaking(message.table); break;
    case "error":
      if (message.code === "access_denied") { loadInfo(); }
      break;
    default: break;
  }
}

function reconnectLater() {
  if (!state.joined) return; // left, or sent away: nothing to reconnect
  setStatus("reconnecting", {}, "reconnecting");
  const delay = Math.min(15_000, 500 * 2 ** state.attempt++) * (0.5 + Math.random() / 2);
  setTimeout(() => { if (state.joined) connectAll().catch(() => reconnectLater()); }, delay);
}

async function waitForIce(pc) {
  // aiortc takes no trickled candidates: the offer carries them all.
  if (pc.iceGatheringState === "complete") return;
  await new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 3000);
  });
}

function newPeer() {
  return new RTCPeerConnection({ iceServers: state.info?.ice_servers || [], bundlePolicy: "max-bundle" });
}

async function publish() {
  state.pub?.close();
  const pc = newPeer();
  state.pub = pc;
  const profile = PROFILES[$("video-quality").value];
  for (const track of state.stream.getTracks()) {
    if (track.kind === "video" && !profile) continue;
    pc.addTransceiver(track, { direction: "sendonly", streams: [state.stream] });
  }
  await pc.setLocalDescription(await pc.createOffer());
  await waitForIce(pc);
  const answer = await request("publish", pc.localDescription.sdp);
  await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  await capBitrates(pc, profile);
  watchPeer(pc);
}

async function capBitrates(pc, profile) {
  for (const sender of pc.getSenders()) {
    if (!sender.track) continue;
    const params = sender.getParameters();
    if (!params.encodings || !params.encodings.length) params.encodings = [{}];
    if (sender.track.kind === "video" && profile) {
      params.encodings[0].maxBitrate = profile.maxBitrate;
      params.encodings[0].maxFramerate = profile.frameRate;
      params.degradationPreference = "maintain-framerate";
    } else if (sender.track.kind === "audio") {
      params.encodings[0].maxBitrate = AUDIO_BITRATE;
    }
    try { await sender.setParameters(params); } catch (_error) { /* caps are best effort */ }
  }
}

async function subscribe() {
  state.sub?.close();
  const pc = newPeer();
  state.sub = pc;
  const count = state.info.slots;
  const withVideo = $("video-quality").value !== "audio";
  const video = [];
  const audio = [];
  if (withVideo) for (let i = 0; i < count; i++) video.push(pc.addTransceiver("video", { direction: "recvonly" }));
  for (let i = 0; i < count; i++) audio.push(pc.addTransceiver("audio", { direction: "recvonly" }));
  buildTiles(count, video, audio);
  await pc.setLocalDescription(await pc.createOffer());
  await waitForIce(pc);
  const answer = await request("subscribe", pc.localDescription.sdp);
  await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  watchPeer(pc);
}

function watchPeer(pc) {
  pc.addEventListener("connectionstatechange", () => {
    if (pc.connectionState === "failed" && state.joined && (pc === state.pub || pc === state.sub)) {
      negotiate().catch(() => reconnectLater());
    }
  });
}

async function negotiate() {
  if (state.negotiating) return state.negotiating;
  state.negotiating = (async () => {
    try {
      await publish();
      await subscribe();
    } finally {
      state.negotiating = null;
    }
  })();
  return state.negotiating;
}

async function connectAll() {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) await openSocket();
  await loadInfo();
  if (!state.info?.table) return;
  if (state.movingTo === null) setStatus("joining", {}, "joining");
  await negotiate();
  if (state.movingTo === null) setStatus("live", {}, "live");
}

async function join() {
  if (!state.stream && !(await startPreview())) return;
  state.joined = true;
  $("video-join").disabled = true;
  for (const id of ["video-mute", "video-camera-toggle", "video-leave"]) $(id).disabled = false;
  try {
    await connectAll();
  } catch (error) {
    if (error.code === "access_denied") { state.joined = false; await loadInfo(); return; }
    reconnectLater();
  }
}

async function leave(announce = true) {
  state.joined = false;
  if (state.ws?.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify({ v: 1, type: "leave" }));
  state.pub?.close(); state.sub?.close();
  state.pub = state.sub = null;
  state.ws?.close();
  state.ws = null;
  $("video-tiles").replaceChildren();
  state.slots = [];
  $("video-join").disabled = !state.info?.table;
  for (const id of ["video-mute", "video-camera-toggle", "video-leave"]) $(id).disabled = true;
  if (announce) setStatus("left", {}, "idle");
}

// --- tiles -------------------------------------------------------------------------------

function buildTiles(count, video, audio) {
  const list = $("video-tiles");
  list.replaceChildren();
  state.slots = [];
  for (let i = 0; i < count; i++) {
    const item = document.createElement("li");
    item.className = "video-tile";
    item.hidden = true;
    const media = document.createElement("video");
    media.autoplay = true;
    media.playsInline = true;
    const tracks = [video[i]?.receiver.track, audio[i]?.receiver.track].filter(Boolean);
    media.srcObject = new MediaStream(tracks);
    const label = document.createElement("span");
    label.className = "video-name";
    item.append(media, label);
    list.append(item);
    state.slots.push({ item, media, label, audio: audio[i]?.receiver, video: video[i]?.receiver, who: null });
  }
  applyLayout();
}

function onLayout(message) {
  history.push(`${Math.round(performance.now())} layout ${message.table_id}`);
  state.layout = message.slots.map((s) => s.participant_id);
  const changed = message.table_id !== state.tableId;
  state.tableId = message.table_id;
  if (changed && state.info?.table?.media_id !== message.table_id) loadInfo();
  else if (state.movingTo !== null && state.info?.table?.media_id === message.table_id) arrived();
  applyLayout();
}

function applyLayout() {
  state.slots.forEach((slot, i) => {
    const who = state.layout[i] || null;
    slot.who = who;
    slot.item.hidden = !who;
    slot.item.dataset.mediaId = who || "";
    slot.media.dataset.mediaId = who || "";
    slot.label.textContent = nameOf(who);
    slot.media.setAttribute("aria-label", nameOf(who));
    if (who) slot.media.play().catch(() => {});
  });
}

function renderNames() {
  for (const slot of state.slots) {
    slot.label.textContent = nameOf(slot.who);
    slot.media.setAttribute("aria-label", nameOf(slot.who));
  }
}

function lightSpeaker() {
  let loudest = null;
  let level = 0.02;
  for (const slot of state.slots) {
    if (!slot.who || !slot.audio) continue;
    for (const source of slot.audio.getSynchronizationSources()) {
      if (Date.now() - source.timestamp < 1000 && (source.audioLevel || 0) > level) {
        level = source.audioLevel;
        loudest = slot;
      }
    }
  }
  for (const slot of state.slots) slot.item.classList.toggle("speaking", slot === loudest);
}

function onSpeaking(table) {
  const node = $("video-balance");
  const seconds = table.seconds || {};
  const total = table.total ?? Object.values(seconds).reduce((a, b) => a + b, 0);
  if (!total) { node.hidden = true; return; }
  node.hidden = false;
  const mine = seconds[state.info?.me.media_id] || 0;
  const minutes = `${Math.floor(mine / 60)}:${String(Math.round(mine % 60)).padStart(2, "0")}`;
  node.dataset.gini = String(table.gini);
  node.textContent = (table.gini < 0.35 ? text.balanced : text.uneven) + " " + format(text.yourTime, { time: minutes });
}

// --- live events of the summit (round changes, moves, broadcasts) ---------------------------

function listen(attempt = 0) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${EVENTS_PATH}`);
  socket.addEventListener("open", () => { attempt = 0; });
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (["round", "seating", "seat"].includes(event.type)) loadInfo();
    if (event.type === "broadcast" && event.text) {
      const node = $("video-broadcast");
      node.textContent = `${text.moderator}: ${event.text}`;
      node.hidden = false;
    }
  });
  socket.addEventListener("close", () => {
    setTimeout(() => listen(attempt + 1), Math.min(30_000, 500 * 2 ** attempt));
  });
}

// --- controls ----------------------------------------------------------------------------

$("video-preview-start").addEventListener("click", () => startPreview());
$("video-join").addEventListener("click", () => join());
$("video-leave").addEventListener("click", () => leave());
$("video-mute").addEventListener("click", (event) => {
  state.muted = !state.muted;
  for (const track of state.stream?.getAudioTracks() || []) track.enabled = !state.muted;
  event.currentTarget.setAttribute("aria-pressed", String(state.muted));
  event.currentTarget.textContent = state.muted ? text.unmute : text.mute;
});
$("video-camera-toggle").addEventListener("click", (event) => {
  state.cameraOff = !state.cameraOff;
  for (const track of state.stream?.getVideoTracks() || []) track.enabled = !state.cameraOff;
  event.currentTarget.setAttribute("aria-pressed", String(state.cameraOff));
  event.currentTarget.textContent = state.cameraOff ? text.cameraOn : text.cameraOff;
});
$("video-call")?.addEventListener("click", async () => {
  const response = await fetch("/me/video/call", {
    method: "POST",
    headers: { accept: "application/json", "X-CSRF-Token": document.body.dataset.csrf },
  });
  if (response.ok) $("video-status").textContent = text.called;
});
for (const id of ["video-camera", "video-microphone", "video-quality"]) {
  $(id).addEventListener("change", async () => {
    if (!(await startPreview())) return;
    if (state.joined) await negotiate().catch(() => reconnectLater());
  });
}

window.summitVideo = {
  state,
  history,
  async framesDecoded() {
    if (!state.sub) return 0;
    let total = 0;
    (await state.sub.getStats()).forEach((report) => {
      if (report.type === "inbound-rtp" && report.kind === "video") total += report.framesDecoded || 0;
    });
    return total;
  },
};

setInterval(tick, 1000);
setInterval(lightSpeaker, 300);
loadInfo().then(tick);
if (EVENTS_PATH) listen();
if (REFRESH_SECONDS > 0) setInterval(() => { if (!state.joined) loadInfo(); }, REFRESH_SECONDS * 1000);
