// The public plenary screen: themes growing during the day. A public socket (/plenary/ws) says
// when the themes changed (never what); the page then refetches the small /plenary.json (no
// personal data). If the socket cannot be held, it falls back to polling.
import { themeCards } from "./theme_cards.js";

const list = document.getElementById("plenary-themes");
const FALLBACK_POLL_MS = 60000;
const SOCKET_URL = document.body.dataset.liveUrl || "/plenary/ws";

function countText(n) {
  const body = document.body.dataset;
  return n === 1 ? body.oneIdea : (body.manyIdeas || "").replace("%(num)s", String(n));
}

function render(data) {
  if (!list || String(data.generation) === list.dataset.generation && list.children.length === data.themes.length) return;
  const items = themeCards(data.themes, { heading: "h2", countClass: "plenary-count", repClass: "plenary-rep", countText });
  list.replaceChildren(...items);
  list.dataset.generation = String(data.generation);
  if (data.themes.length) document.getElementById("plenary-empty")?.remove();
  for (const [key, value] of [["ideas", data.ideas], ["tables", data.tables], ["themes", data.themes.length]]) {
    const node = document.querySelector(`[data-plenary-${key}]`);
    if (node) node.textContent = String(value);
  }
}

let fetching = null;
let again = false;
async function refresh() {
  // One request at a time; a change announced meanwhile is fetched right after.
  if (fetching) { again = true; return; }
  fetching = (async () => {
    try {
      const response = await fetch("/plenary.json", { headers: { accept: "application/json" }, cache: "no-store" });
      if (response.ok) render(await response.json());
    } catch {
      // The hall's network dropped: keep showing the last themes.
    }
  })();
  await fetching;
  fetching = null;
  if (again) { again = false; refresh(); }
}

function connect(attempt = 0) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${SOCKET_URL}`);
  socket.addEventListener("open", () => {
    document.body.dataset.plenaryLive = "1";
    if (attempt > 0) refresh(); // catch up on what changed while disconnected
    attempt = 0;
  });
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "themes" && String(event.generation) !== list?.dataset.generation) refresh();
  });
  socket.addEventListener("close", (closed) => {
    document.body.dataset.plenaryLive = "0";
    const delay = closed.code === 4429 ? FALLBACK_POLL_MS : Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    setTimeout(() => connect(attempt + 1), delay);
  });
}

if ("WebSocket" in window) connect();
setInterval(refresh, FALLBACK_POLL_MS);
