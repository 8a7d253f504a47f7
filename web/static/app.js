// Live updates: signed-in pages listen to their summit's events over one WebSocket and
// reconnect with back-off when the network drops.
const body = document.body;
const liveRegion = document.getElementById("live-region");

// Bars take their length from data-share / data-size: the content security policy allows no
// style attributes, but a script of our own may set a custom property.
for (const [attribute, property] of [["share", "--share"], ["size", "--size"]]) {
  for (const node of document.querySelectorAll(`[data-${attribute}]`)) {
    node.style.setProperty(property, `${Number(node.dataset[attribute]) || 0}%`);
  }
}

async function refreshCounts() {
  if (!document.querySelector("[data-count]")) return;
  const response = await fetch("/organiser/status.json", { headers: { accept: "application/json" } });
  if (!response.ok) return;
  const status = await response.json();
  for (const [key, value] of Object.entries(status.counts)) {
    const node = document.querySelector(`[data-count="${key}"]`);
    if (node && typeof value === "number") node.textContent = String(value);
  }
  const total = document.querySelector('[data-count="participants_total"]');
  if (total) total.textContent = String(Object.values(status.counts.participants).reduce((a, b) => a + b, 0));
  const seq = document.querySelector('[data-count="audit_seq"]');
  if (seq) seq.textContent = String(status.audit_head.seq);
  for (const node of document.querySelectorAll("[data-head-hash]")) node.textContent = status.audit_head.hash;
}

function announce(text) {
  if (liveRegion) liveRegion.textContent = text;
}

function connect(attempt = 0) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("open", () => { attempt = 0; body.dataset.connected = "1"; });
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "hello" || event.type === "pong") return;
    if (event.type === "phase") {
      announce(body.dataset.phaseMessage || "");
      location.reload();
      return;
    }
    if (event.type === "broadcast" && event.text) announce(event.text);
    refreshCounts().catch(() => {});
  });
  socket.addEventListener("close", () => {
    body.dataset.connected = "0";
    const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    setTimeout(() => connect(attempt + 1), delay);
  });
}

if (body.dataset.live === "1" && "WebSocket" in window) connect();
