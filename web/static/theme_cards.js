// The themes of the day as list items for the big screens (the public /plenary and the venue
// screen): each theme's name, its idea count and a bar as wide as its share of the largest theme.
export function themeCards(themes, { heading = "h2", countClass, repClass, countText }) {
  const top = Math.max(1, ...themes.map((theme) => theme.count));
  return themes.map((theme) => {
    const li = document.createElement("li");
    li.style.setProperty("--size", `${(theme.count / top) * 100}%`);
    li.dataset.count = String(theme.count);
    const title = document.createElement(heading);
    title.textContent = theme.label;
    const count = document.createElement("p");
    count.className = countClass;
    count.textContent = countText(theme.count);
    li.append(title, count);
    if (theme.representative) {
      const rep = document.createElement("p");
      rep.className = repClass;
      rep.textContent = `“${theme.representative}”`;
      li.append(rep);
    }
    return li;
  });
}
