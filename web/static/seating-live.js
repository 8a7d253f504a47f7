// The participant's table, live: when the organiser moves this participant (a "seat" event on
// their own channel) or the round changes, fetch their tables and update the page in place.
// Works on /me/tables and, once included there, on /me ([data-table-number], .companions).
const body = document.body;

function setList(list, names) {
  list.replaceChildren(...names.map((name) => Object.assign(document.createElement("li"), { textContent: name })));
}

async function refresh() {
  const response = await fetch("/me/tables.json", { headers: { accept: "application/json" } });
  if (!response.ok) return;
  const data = await response.json();
  for (const row of data.rounds) {
    const tr = document.querySelector(`tr[data-round="${row.round}"]`);
    if (!tr) continue;
    const table = tr.querySelector('[data-cell="table"]');
    if (table) table.textContent = String(row.table) + (row.topic ? ` · ${row.topic}` : "");
    const where = tr.querySelector('[data-cell="where"]');
    if (where) where.textContent = row.where || "";
    const companions = tr.querySelector('[data-cell="companions"]');
    if (companions) companions.textContent = row.companions.join(", ");
  }
  const current = data.current;
  const number = document.querySelector("[data-table-number]");
  if (current && number) {
    number.dataset.tableNumber = String(current.table);
    number.textContent = current.where ? `${current.label} (${current.where})` : current.label;
    const list = document.querySelector(".companions");
    if (list) setList(list, current.companions);
  }
  const region = document.getElementById("live-region");
  if (region && current) region.textContent = current.where ? `${current.label} (${current.where})` : current.label;
}

function connect(attempt = 0) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("open", () => { attempt = 0; body.dataset.seatingLive = "1"; });
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "seat" || event.type === "seating" || event.type === "round") {
      refresh().catch(() => {});
    }
  });
  socket.addEventListener("close", () => {
    body.dataset.seatingLive = "0";
    const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    setTimeout(() => connect(attempt + 1), delay);
  });
}

// A page that includes this module twice still opens one connection.
if (body.dataset.live === "1" && "WebSocket" in window && !window.__seatingLive) {
  window.__seatingLive = true;
  connect();
}
