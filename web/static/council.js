// Council pages: votes-left counter for dot voting, live totals, and the plenary screen.
// Pages declare what they need with data attributes; nothing here runs on other pages.
import { themeCards } from "./theme_cards.js";

function interpolate(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

function throttled(fn, wait = 400) {
  let timer = null;
  let again = false;
  return () => {
    if (timer) { again = true; return; }
    fn();
    timer = setTimeout(function tick() {
      timer = null;
      if (again) { again = false; fn(); timer = setTimeout(tick, wait); }
    }, wait);
  };
}

function listen(url, onEvent) {
  let attempt = 0;
  const status = document.querySelector("[data-plenary-connection]");
  const text = texts();
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${url}`);
    socket.addEventListener("open", () => {
      if (attempt > 0) onEvent({ type: "reconnected" }); // catch up on what was missed
      attempt = 0;
      document.body.dataset.councilLive = "1";
      if (status) status.textContent = "";
    });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "hello" || event.type === "pong") return;
      onEvent(event);
    });
    socket.addEventListener("close", (closed) => {
      document.body.dataset.councilLive = "0";
      if (closed.code === 4403 || closed.code === 4404) return;
      if (status) status.textContent = text.offline || "";
      const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      setTimeout(connect, delay);
    });
  }
  connect();
}

function texts() {
  const node = document.getElementById("plenary-text");
  return node ? JSON.parse(node.textContent) : {};
}

// Dot voting: show how many votes are left and stop an over-budget submit before it is sent.
for (const form of document.querySelectorAll("form[data-dot-budget]")) {
  const budget = Number(form.dataset.dotBudget);
  const left = form.querySelector("[data-dots-left]");
  const button = form.querySelector("button[type=submit]");
  const update = () => {
    let used = 0;
    for (const input of form.querySelectorAll("[data-dots]")) used += Math.max(0, Number(input.value) || 0);
    const remaining = budget - used;
    if (left) {
      left.textContent = interpolate(left.dataset.template, { n: remaining });
      left.classList.toggle("over", remaining < 0);
    }
    if (button) button.disabled = remaining < 0;
  };
  form.addEventListener("input", update);
  update();
}

// Live totals on the organiser's prioritisation page.
for (const section of document.querySelectorAll("[data-priority-live]")) {
  const table = section.querySelector("[data-totals-url]");
  const body = section.querySelector("[data-totals-body]");
  if (!table || !body) continue;
  const refresh = throttled(async () => {
    const response = await fetch(table.dataset.totalsUrl, { headers: { accept: "application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    const top = Math.max(1, ...data.items.map((item) => item.votes));
    body.replaceChildren(...data.items.map((item) => {
      const row = document.createElement("tr");
      const label = document.createElement("th");
      label.scope = "row";
      label.textContent = item.label;
      const cell = document.createElement("td");
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.setAttribute("aria-hidden", "true");
      bar.style.setProperty("--share", `${(item.votes / top) * 100}%`);
      cell.append(bar, ` ${item.votes}`);
      row.append(label, cell);
      return row;
    }));
  });
  listen(section.dataset.socketUrl, (event) => {
    if (String(event.type).startsWith("priority.")) refresh();
  });
}

// The plenary screen: state from JSON, refreshed on live events.
const plenary = document.querySelector("[data-plenary]");
if (plenary) {
  const text = texts();
  const $ = (selector) => plenary.querySelector(selector);

  function renderPriority(priority) {
    const block = $("[data-plenary-priority]");
    block.hidden = !priority;
    if (!priority) return;
    $("[data-priority-title]").textContent = `${priority.title} — ${priority.status === "open" ? text.open : text.closed}`;
    $("[data-priority-voters]").textContent = interpolate(text.voters, priority.voters);
    const top = Math.max(1, ...priority.items.map((item) => item.votes));
    const list = $("[data-priority-items]");
    list.replaceChildren(...priority.items.map((item, index) => {
      const li = document.createElement("li");
      if (priority.status === "closed" && index < priority.shortlist_size) li.className = "in-shortlist";
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = item.label;
      const meter = document.createElement("span");
      meter.className = "meter";
      const fill = document.createElement("span");
      fill.style.width = `${(item.votes / top) * 100}%`;
      meter.append(fill);
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = String(item.votes);
      li.append(label, meter, count);
      li.dataset.votes = String(item.votes);
      return li;
    }));
  }

  function renderCouncil(council) {
    const block = $("[data-plenary-council]");
    block.hidden = !council;
    if (!council) return;
    $("[data-council-title]").textContent = `${council.title} — ${council.status === "open" ? text.open : text.closed}`;
    $("[data-council-rule]").textContent = interpolate(text.rule, council);
    $("[data-council-turnout]").textContent = interpolate(text.turnout, { voted: council.voters, members: council.members });
    const table = $("[data-council-results]");
    table.hidden = council.status !== "closed";
    if (council.status !== "closed") return;
    $("[data-council-rows]").replaceChildren(...council.proposals.map((row) => {
      const tr = document.createElement("tr");
      const title = document.createElement("th");
      title.scope = "row";
      title.textContent = row.title;
      const cells = [row.for, row.against, row.abstain].map((value) => {
        const td = document.createElement("td");
        td.textContent = String(value);
        return td;
      });
      const outcome = document.createElement("td");
      outcome.className = row.adopted ? "adopted" : "rejected";
      outcome.textContent = row.adopted ? text.adopted : text.rejected;
      tr.append(title, ...cells, outcome);
      return tr;
    }));
  }

  // The theme board: the biggest themes first, each bar as wide as its share of the largest.
  function renderThemes(board) {
    const block = $("[data-plenary-themes]");
    block.hidden = !board.themes.length;
    $("[data-themes-stats]").textContent = interpolate(text.themeStats, {
      ideas: board.ideas, tables: board.tables, themes: board.themes.length,
    });
    $("[data-themes-list]").replaceChildren(...themeCards(board.themes, {
      heading: "h3",
      countClass: "count",
      repClass: "rep",
      countText: (n) => (n === 1 ? text.oneIdea : interpolate(text.manyIdeas, { num: n })),
    }));
    plenary.dataset.generation = String(board.generation);
  }

  const shown = { themes: false, votes: false };
  const showEmpty = () => { $("[data-plenary-empty]").hidden = shown.themes || shown.votes; };
  const refresh = throttled(async () => {
    const response = await fetch(plenary.dataset.stateUrl, { headers: { accept: "application/json" } });
    if (!response.ok) return;
    const state = await response.json();
    renderPriority(state.priority);
    renderCouncil(state.council);
    shown.votes = Boolean(state.priority || state.council);
    showEmpty();
    plenary.dataset.loaded = String(Number(plenary.dataset.loaded || "0") + 1);
  });
  const refreshThemes = throttled(async () => {
    if (!plenary.dataset.themesUrl) return;
    const response = await fetch(plenary.dataset.themesUrl, { headers: { accept: "application/json" }, cache: "no-store" });
    if (!response.ok) return;
    const board = await response.json();
    renderThemes(board);
    shown.themes = board.themes.length > 0;
    showEmpty();
  }, 1000);
  refresh();
  refreshThemes();
  listen(plenary.dataset.socketUrl, (event) => {
    if (event.type !== "themes") refresh();
    if (event.type === "themes" || event.type === "reconnected") refreshThemes();
  });
}
