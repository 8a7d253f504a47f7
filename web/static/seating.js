// The organiser's move form: as the organiser picks a round, a person and a table, ask the
// server which seating rules the move would break and show them before anything is submitted.
const form = document.getElementById("move-form");
const output = document.getElementById("move-check");

function show(violations) {
  output.replaceChildren();
  if (violations.length === 0) {
    const ok = document.createElement("p");
    ok.className = "ok";
    ok.textContent = output.dataset.okText || "";
    output.append(ok);
    output.dataset.state = "ok";
    return;
  }
  const list = document.createElement("ul");
  list.className = "violations";
  for (const violation of violations) {
    const item = document.createElement("li");
    item.dataset.rule = violation.rule;
    item.textContent = violation.message;
    list.append(item);
  }
  output.append(list);
  output.dataset.state = "violations";
}

let latest = 0;

async function check() {
  const data = new FormData(form);
  const query = new URLSearchParams({
    round: String(data.get("round") || ""),
    participant: String(data.get("participant") || ""),
    table: String(data.get("table") || ""),
  });
  const ticket = ++latest;
  output.dataset.state = "checking";
  try {
    const response = await fetch(`/seating/check.json?${query}`, { headers: { accept: "application/json" } });
    const body = await response.json();
    if (ticket !== latest) return; // an answer to an older question
    if (!response.ok) throw new Error(body.error || String(response.status));
    show(body.violations);
  } catch (error) {
    if (ticket !== latest) return;
    output.replaceChildren(Object.assign(document.createElement("p"), {
      className: "error",
      textContent: `${output.dataset.errorText || ""} ${error.message}`,
    }));
    output.dataset.state = "error";
  }
}

if (form && output) {
  for (const name of ["round", "participant", "table"]) {
    form.elements.namedItem(name)?.addEventListener("change", () => { check(); });
  }
}
