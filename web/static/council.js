// Council pages: votes-left counter for dot voting, live totals, and the plenary screen.
// Pages declare what they need with data attributes; nothing here runs on other pages.
import { themeCards } from "./theme_cards.js";

/** Theme cards on one hall screen (the last one names the rest when there are more). */
const SCREEN_CARDS = 20;

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
    // One projector screen holds 20 cards: beyond 20 themes the 19 largest and one card for
    // the rest, with their number and ideas.
    const themes = [...board.themes].sort((a, b) => b.count - a.count);
    const shownThemes = themes.length > SCREEN_CARDS ? themes.slice(0, SCREEN_CARDS - 1) : themes;
    const cards = themeCards(shownThemes, {
      heading: "h3",
      countClass: "count",
      repClass: "rep",
      countText: (n) => (n === 1 ? text.oneIdea : interpolate(text.manyIdeas, { num: n })),
    });
    const rest = themes.slice(shownThemes.length);
    if (rest.length) {
      const more = document.createElement("li");
      more.className = "more";
      more.dataset.moreThemes = String(rest.length);
      const line = document.createElement("p");
      line.textContent = interpolate(text.moreThemes, {
        themes: rest.length, ideas: rest.reduce((sum, theme) => sum + theme.count, 0),
      });
      more.append(line);
      cards.push(more);
    }
    $("[data-themes-list]").replaceChildren(...cards);
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

// --- The secret ballot: an anonymous voting key by blind signature (docs/council.md) ----------
// The same steps as summit/council/rules/credentials.py. SHA-256 is computed here rather than
// with crypto.subtle, which browsers only offer on HTTPS pages (a venue may serve plain HTTP).

const SHA_K = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

function sha256(bytes) {
  const length = bytes.length;
  const padded = new Uint8Array(Math.ceil((length + 9) / 64) * 64);
  padded.set(bytes);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
  view.setUint32(padded.length - 4, (length * 8) >>> 0);
  const h = Uint32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, k] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + SHA_K[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      [k, g, f, e, d, c, b, a] = [g, f, e, (d + t1) >>> 0, c, b, a, (t1 + t2) >>> 0];
    }
    [a, b, c, d, e, f, g, k].forEach((value, i) => { h[i] = (h[i] + value) >>> 0; });
  }
  const out = new Uint8Array(32);
  h.forEach((value, i) => new DataView(out.buffer).setUint32(i * 4, value));
  return out;
}

const utf8 = (text) => new TextEncoder().encode(text);
const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const bytesToBig = (bytes) => (bytes.length ? BigInt(`0x${toHex(bytes)}`) : 0n);

function modPow(base, exponent, modulus) {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

function modInverse(value, modulus) {
  let [r0, r1, t0, t1] = [modulus, value % modulus, 0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  if (r0 !== 1n) throw new Error("not invertible");
  return ((t0 % modulus) + modulus) % modulus;
}

function randomBelow(modulus, size) {
  for (;;) {
    const value = bytesToBig(crypto.getRandomValues(new Uint8Array(size + 8))) % modulus;
    if (value > 1n) return value;
  }
}

function fullDomainHash(key, vote, credential) {
  const seed = utf8(`summit.council.credential.v1:${vote}:${credential}`);
  const out = new Uint8Array(key.size);
  for (let counter = 0, filled = 0; filled < key.size; counter++) {
    const block = new Uint8Array(seed.length + 4);
    block.set(seed);
    new DataView(block.buffer).setUint32(seed.length, counter);
    const digest = sha256(block).slice(0, key.size - filled);
    out.set(digest, filled);
    filled += digest.length;
  }
  return bytesToBig(out) % key.n;
}

function newVotingKey(key, vote) {
  const secret = toHex(crypto.getRandomValues(new Uint8Array(32)));
  const credential = toHex(sha256(utf8(`summit.council.voting-key.v1:${secret}`)));
  const factor = randomBelow(key.n, key.size);
  const blinded = (fullDomainHash(key, vote, credential) * modPow(factor, key.e, key.n)) % key.n;
  return { secret, credential, factor: factor.toString(16), blinded: blinded.toString(16) };
}

function unblind(key, vote, stored, blindSignature) {
  const signature = (BigInt(`0x${blindSignature}`) * modInverse(BigInt(`0x${stored.factor}`), key.n)) % key.n;
  if (modPow(signature, key.e, key.n) !== fullDomainHash(key, vote, stored.credential)) return null;
  return signature.toString(16);
}

function ballotPage(box) {
  const text = JSON.parse(document.getElementById("ballot-text").textContent);
  const vote = box.dataset.vote;
  const n = BigInt(`0x${box.dataset.keyN}`);
  const key = { n, e: BigInt(box.dataset.keyE), size: Math.ceil(n.toString(16).length / 2) };
  const form = box.querySelector("[data-ballot-form]");
  const keyMessage = box.querySelector("[data-key-message]");
  const castMessage = box.querySelector("[data-cast-message]");
  const load = () => JSON.parse(localStorage.getItem(box.dataset.slot) || "{}");
  const save = (value) => localStorage.setItem(box.dataset.slot, JSON.stringify(value));
  const say = (message) => { keyMessage.textContent = message; };
  let stored = load();

  function showReceipts() {
    const ballots = stored.ballots || {};
    const rows = [...form.querySelectorAll("fieldset[data-proposal]")].filter((set) => ballots[set.dataset.proposal]);
    box.querySelector("[data-receipts]").hidden = rows.length === 0;
    box.querySelector("[data-receipts-body]").replaceChildren(...rows.map((set) => {
      const mine = ballots[set.dataset.proposal];
      const tr = document.createElement("tr");
      const title = document.createElement("th");
      title.scope = "row";
      title.textContent = set.dataset.title;
      const choice = document.createElement("td");
      choice.textContent = text.choices[mine.choice] || mine.choice;
      const receipt = document.createElement("td");
      const code = document.createElement("code");
      code.dataset.receipt = "";
      code.textContent = mine.receipt;
      receipt.append(code);
      tr.append(title, choice, receipt);
      const input = set.querySelector(`input[value="${mine.choice}"]`);
      if (input) input.checked = true;
      return tr;
    }));
    if (rows.length) form.querySelector("[data-cast]").textContent = text.change;
  }

  function ready() {
    say(text.ready);
    form.hidden = box.dataset.status !== "open";
    box.dataset.keyReady = "1";
  }

  async function askForKey() {
    const response = await fetch(box.dataset.keyUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", "x-csrf-token": document.body.dataset.csrf },
      body: JSON.stringify({ blinded: stored.blinded }),
    });
    if (response.status === 409) return { status: "elsewhere" };
    if (response.status === 403) return { status: "notMember" };
    if (!response.ok) return { status: "retry" };
    return response.json();
  }

  async function obtainKey() {
    if (!stored.secret) {
      say(text.making);
      stored = newVotingKey(key, vote);
      save(stored);
    }
    for (let attempt = 0; ; attempt++) {
      const answer = await askForKey().catch(() => ({ status: "retry" }));
      if (answer.status === "signed") {
        const signature = unblind(key, vote, stored, answer.blind_signature);
        if (signature) {
          stored = { secret: stored.secret, credential: stored.credential, signature, ballots: stored.ballots || {} };
          save(stored);
          box.dataset.status = "open"; // keys are signed once the vote is open
          return ready();
        }
        return say(text.failed);
      }
      if (["elsewhere", "notMember", "legacy"].includes(answer.status)) return say(text[answer.status]);
      say(box.dataset.status === "planned" ? text.waitingOpen : text.waiting);
      const pause = box.dataset.status === "planned" ? 10000 : 5000;
      await new Promise((resolve) => setTimeout(resolve, pause * (0.75 + Math.random() / 2) * Math.min(4, 1 + attempt / 20)));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const choices = {};
    for (const input of form.querySelectorAll("input[type=radio]:checked")) choices[input.name.slice("choice-".length)] = input.value;
    castMessage.hidden = false;
    castMessage.classList.remove("error");
    if (!Object.keys(choices).length) { castMessage.textContent = text.choose; return; }
    castMessage.textContent = text.sending;
    try {
      // No session and no cookie: the ballot carries the anonymous key, never who sends it.
      const response = await fetch(box.dataset.ballotUrl, {
        method: "POST",
        credentials: "omit",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ secret: stored.secret, signature: stored.signature, choices }),
      });
      const answer = await response.json();
      if (!response.ok) {
        castMessage.classList.add("error");
        castMessage.textContent = `${text.failed} ${answer.error || response.status}`;
        return;
      }
      stored.ballots = stored.ballots || {};
      for (const [proposal, receipt] of Object.entries(answer.receipts)) {
        stored.ballots[proposal] = { choice: answer.choices[proposal], receipt, version: answer.versions[proposal] };
      }
      save(stored);
      castMessage.textContent = text.saved;
      showReceipts();
    } catch {
      castMessage.classList.add("error");
      castMessage.textContent = text.offline;
    }
  });

  showReceipts();
  if (box.dataset.keyStatus === "legacy") say(text.legacy);
  else if (stored.signature) ready();
  else if (box.dataset.keyStatus !== "none" && !stored.secret) say(text.elsewhere);
  else obtainKey();
}

const ballotBox = document.querySelector("[data-ballot]");
if (ballotBox) ballotPage(ballotBox);
