"use strict";
// Filters and sorting for a texsynth report: no framework, no network.
(function () {
  const grid = document.getElementById("cards");
  const cards = Array.from(grid.querySelectorAll(".card"));
  const facets = Array.from(document.querySelectorAll("select[data-facet]"));
  const find = document.getElementById("find");
  const sort = document.getElementById("sort");
  const order = document.getElementById("order");
  const shown = document.getElementById("shown");

  function visible(card) {
    const text = find.value.trim().toLowerCase();
    if (text && !card.dataset.text.includes(text)) return false;
    return facets.every(function (select) {
      return !select.value || card.getAttribute("data-f-" + select.dataset.facet) === select.value;
    });
  }

  function sortValue(card) {
    const key = sort.value;
    if (key === "key") return card.dataset.key;
    const raw = card.getAttribute("data-" + key);
    if (key.startsWith("n-")) return raw === null ? null : Number(raw);
    return raw === null ? "" : raw;
  }

  const words = new Intl.Collator(undefined, { numeric: true });
  function compare(a, b) {
    const x = sortValue(a);
    const y = sortValue(b);
    if (x === null || y === null) return (x === null) - (y === null); // unscored last
    const sign = order.value === "down" ? -1 : 1;
    if (typeof x === "number") return sign * (x - y);
    return sign * words.compare(x, y);
  }

  function update() {
    let count = 0;
    const ordered = cards.slice().sort(compare);
    const fragment = document.createDocumentFragment();
    for (const card of ordered) {
      card.hidden = !visible(card);
      if (!card.hidden) count += 1;
      fragment.appendChild(card);
    }
    grid.appendChild(fragment);
    shown.textContent = count + " of " + cards.length + " shown";
  }

  for (const control of [...facets, sort, order]) control.addEventListener("change", update);
  find.addEventListener("input", update);
  update();
})();
