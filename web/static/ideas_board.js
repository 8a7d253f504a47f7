// The moderator's theme board follows live: new ideas, other moderators' decisions and the
// progress of a re-clustering arrive over the WebSocket; the board is re-read from the server.
const tools = document.getElementById("board-tools");
const progress = document.getElementById("recluster-progress");

function format(template, values) {
  return (template || "").replace(/%\((\w+)\)s/g, (_m, name) => String(values[name] ?? ""));
}

function showProgress(event) {
  if (!tools || !progress) return;
  const stage = event.state === "failed" ? "failed" : event.state === "done" ? "done" : event.stage;
  const key = `msg${stage.charAt(0).toUpperCase()}${stage.slice(1)}`;
  let text = format(tools.dataset[key], event);
  if (stage === "failed" && event.message) text = `${text} ${event.message}`;
  progress.textContent = text;
  progress.dataset.state = event.state;
}

let pending = false;
async function refreshBoard() {
  const board = document.getElementById("theme-board");
  if (!board) return;
  const active = document.activeElement;
  if (board.contains(active) && active.matches("input, select, textarea")) {
    if (!pending) {
      pending = true;
      board.addEventListener("focusout", () => { pending = false; refreshBoard().catch(() => {}); }, { once: true });
    }
    return;
  }
  const response = await fetch(location.pathname + location.search, { headers: { accept: "text/html" } });
  if (!response.ok) return;
  const html = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = html.getElementById("theme-board");
  if (fresh) board.replaceWith(fresh);
}

async function pollStatus() {
  const response = await fetch("/moderator/themes/status.json", { headers: { accept: "application/json" } });
  if (!response.ok) return;
  const status = await response.json();
  if (status.progress && status.progress.state !== "idle") showProgress(status.progress);
  const board = document.getElementById("theme-board");
  if (board && String(status.generation) !== board.dataset.generation) await refreshBoard();
}

function connect(attempt = 0) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("open", () => {
    attempt = 0;
    if (tools) tools.dataset.live = "1";
    pollStatus().catch(() => {}); // catch up on anything missed while disconnected
  });
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "recluster") showProgress(event);
    if (event.type === "themes" || (event.type === "recluster" && event.state === "done")) {
      refreshBoard().catch(() => {});
    }
    if (event.type === "idea") setTimeout(() => pollStatus().catch(() => {}), 1500);
  });
  socket.addEventListener("close", () => {
    if (tools) tools.dataset.live = "0";
    setTimeout(() => connect(attempt + 1), Math.min(30000, 500 * 2 ** attempt));
  });
}

if (progress && progress.dataset.state === "running") pollStatus().catch(() => {});
if ("WebSocket" in window) connect();
