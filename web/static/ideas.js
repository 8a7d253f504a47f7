// Idea capture at a table: ideas go into a queue in localStorage first and are sent with an
// idempotency key, so a network drop loses nothing and a retry never adds an idea twice.
// The table's list follows live: every member's page refreshes when an idea changes.
const root = document.getElementById("idea-capture");
const csrf = document.body.dataset.csrf || "";

function newKey() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_m, name) => String(values[name] ?? ""));
}

if (root) {
  const queueName = `summit-ideas-queue:${root.dataset.participant}`;
  const form = document.getElementById("idea-form");
  const status = document.getElementById("idea-queue-status");
  const pending = document.getElementById("idea-pending");
  let flushing = false;
  let delay = 1000;
  let timer = null;

  const load = () => {
    try {
      const items = JSON.parse(localStorage.getItem(queueName) || "[]");
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  };
  const save = (items) => localStorage.setItem(queueName, JSON.stringify(items));

  function renderPending(failed = []) {
    if (!pending) return;
    pending.replaceChildren();
    for (const item of [...load(), ...failed]) {
      const li = document.createElement("li");
      li.dataset.key = item.key;
      const title = document.createElement("strong");
      title.textContent = item.title;
      const note = document.createElement("span");
      note.className = item.error ? "error" : "muted";
      note.textContent = item.error ? ` — ${root.dataset.msgFailed}: ${item.error}` : ` — ${root.dataset.msgWaiting}`;
      li.append(title, note);
      pending.append(li);
    }
    const waiting = load().length;
    if (status) status.textContent = waiting ? format(root.dataset.msgQueued, { count: waiting }) : "";
  }

  async function refreshList() {
    const response = await fetch(location.pathname, { headers: { accept: "text/html" } });
    if (!response.ok) return;
    const html = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = html.getElementById("idea-list-section");
    const current = document.getElementById("idea-list-section");
    if (!fresh || !current) return;
    // Keep an edit the person is typing in; refresh once they leave the field.
    if (current.contains(document.activeElement) && document.activeElement.matches("input, textarea")) {
      current.addEventListener("focusout", () => refreshList().catch(() => {}), { once: true });
      return;
    }
    current.replaceWith(fresh);
  }

  function retryLater() {
    clearTimeout(timer);
    timer = setTimeout(flush, delay);
    delay = Math.min(30000, delay * 2);
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    const failed = [];
    try {
      for (;;) {
        const items = load();
        if (!items.length) break;
        const item = items[0];
        let response;
        try {
          response = await fetch("/api/ideas", {
            method: "POST",
            headers: {
              "content-type": "application/json",
              accept: "application/json",
              "x-csrf-token": csrf,
              "idempotency-key": item.key,
            },
            body: JSON.stringify({
              title: item.title, body: item.body, tags: item.tags,
              round_id: item.round_id, table_id: item.table_id, source: "online",
            }),
          });
        } catch {
          retryLater(); // offline: keep the queue, try again later
          break;
        }
        if (response.status >= 500 || response.status === 429 || response.status === 401) {
          retryLater();
          break;
        }
        save(load().filter((other) => other.key !== item.key));
        delay = 1000;
        if (!response.ok) {
          const body = await response.json().catch(() => ({}));
          failed.push({ ...item, error: body.error || String(response.status) });
        } else if (status) {
          status.textContent = root.dataset.msgSaved;
        }
      }
    } finally {
      flushing = false;
      renderPending(failed);
      refreshList().catch(() => {});
    }
  }

  if (form && root.dataset.canRecord === "1") {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const title = String(data.get("title") || "").trim();
      if (!title) return;
      const items = load();
      items.push({
        key: newKey(),
        title,
        body: String(data.get("body") || ""),
        tags: String(data.get("tags") || ""),
        round_id: Number(root.dataset.roundId),
        table_id: Number(root.dataset.tableId),
      });
      save(items);
      form.reset();
      document.getElementById("idea-title")?.focus();
      renderPending();
      flush();
    });
  }

  window.addEventListener("online", () => { delay = 1000; flush(); });
  renderPending();
  if (load().length) flush();

  function connect(attempt = 0) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws`);
    socket.addEventListener("open", () => { attempt = 0; root.dataset.live = "1"; });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "idea") refreshList().catch(() => {});
    });
    socket.addEventListener("close", () => {
      root.dataset.live = "0";
      setTimeout(() => connect(attempt + 1), Math.min(30000, 500 * 2 ** attempt));
    });
  }
  if ("WebSocket" in window) connect();
}
