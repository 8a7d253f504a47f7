// The plenary screen: themes growing during the day. Public, so it polls a small JSON document
// (no personal data) instead of holding a signed-in WebSocket.
const list = document.getElementById("plenary-themes");
const INTERVAL_MS = 4000;

function countText(n) {
  const body = document.body.dataset;
  return n === 1 ? body.oneIdea : (body.manyIdeas || "").replace("%(num)s", String(n));
}

function render(data) {
  if (!list || String(data.generation) === list.dataset.generation && list.children.length === data.themes.length) return;
  const top = Math.max(1, ...data.themes.map((t) => t.count));
  const items = data.themes.map((theme) => {
    const li = document.createElement("li");
    li.style.setProperty("--size", `${(theme.count / top) * 100}%`);
    const h2 = document.createElement("h2");
    h2.textContent = theme.label;
    const count = document.createElement("p");
    count.className = "plenary-count";
    count.textContent = countText(theme.count);
    li.append(h2, count);
    if (theme.representative) {
      const rep = document.createElement("p");
      rep.className = "plenary-rep";
      rep.textContent = `“${theme.representative}”`;
      li.append(rep);
    }
    return li;
  });
  list.replaceChildren(...items);
  list.dataset.generation = String(data.generation);
  if (data.themes.length) document.getElementById("plenary-empty")?.remove();
  for (const [key, value] of [["ideas", data.ideas], ["tables", data.tables], ["themes", data.themes.length]]) {
    const node = document.querySelector(`[data-plenary-${key}]`);
    if (node) node.textContent = String(value);
  }
}

async function poll() {
  try {
    const response = await fetch("/plenary.json", { headers: { accept: "application/json" }, cache: "no-store" });
    if (response.ok) render(await response.json());
  } catch {
    // The hall's network dropped: keep showing the last themes, try again shortly.
  }
  setTimeout(poll, INTERVAL_MS);
}

setTimeout(poll, INTERVAL_MS);
