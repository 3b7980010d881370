// enkash-sandbox inspector: the only script. With "live" ticked, the journal page fetches itself
// every 2 s (while the tab is visible) and swaps in the new rows; every value in them was escaped
// by the server, and nodes parsed by DOMParser never run scripts.
"use strict";
(function () {
  const live = document.getElementById("live");
  const rows = document.getElementById("journal-rows");
  if (!live || !rows) return;
  let timer = null;
  async function refresh() {
    if (document.hidden) return;
    const response = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const id of ["journal-rows", "journal-count"]) {
      const fresh = page.getElementById(id);
      const old = document.getElementById(id);
      if (fresh && old) old.replaceWith(document.importNode(fresh, true));
    }
  }
  function follow() {
    const url = new URL(window.location.href);
    if (live.checked) url.searchParams.set("live", "1"); else url.searchParams.delete("live");
    window.history.replaceState(null, "", url);
    if (timer) clearInterval(timer);
    timer = live.checked ? setInterval(() => refresh().catch(() => {}), 2000) : null;
  }
  live.addEventListener("change", follow);
  follow();
})();
