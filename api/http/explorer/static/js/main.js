// The explorer's router: the URL holds the whole state of a view (shareable; Back and Forward
// redraw the view they return to). Links under /explore are followed without a page load.
import { ApiError, ROOT } from "./api.js";
import { clear, statusLine } from "./dom.js";

// Each view's module (and its library: Leaflet and uPlot, Cytoscape) is loaded when first shown.
const overview = () => import("./overview.js").then((m) => m.renderOverview);
const record = () => import("./record.js").then((m) => m.renderRecord);
const network = () => import("./network.js").then((m) => m.renderNetwork);
const RECORD_COLLECTIONS = ["events", "statements", "actors", "locations", "sources", "relations"];

const main = document.getElementById("main");
const BASE = `${ROOT}/explore`;
let current = null; // the AbortController of the view being drawn

function route(pathname) {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length).replace(/\/+$/, "") : "";
  const parts = rest.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { view: overview, args: [] };
  const [collection, id, extra] = parts;
  if (collection === "actors" && id && extra === "network" && parts.length === 3) {
    return { view: network, args: [id] };
  }
  if (RECORD_COLLECTIONS.includes(collection) && id && parts.length === 2) {
    return { view: record, args: [collection, id] };
  }
  return null;
}

// Draw the view of the current URL. `focus`: move the keyboard focus to its heading (after a
// navigation, not on the first load).
const viewKey = () => window.location.pathname + window.location.search;
let drawnKey = null; // the path and query of the view drawn (a fragment is not a view)

export async function render({ focus = false } = {}) {
  drawnKey = viewKey();
  current?.abort();
  current = new AbortController();
  const { signal } = current;
  const found = route(window.location.pathname);
  if (!found) {
    clear(main, statusLine("The explorer has no page at this address.", "error"));
    document.title = "Not found · Briefing explorer";
    return;
  }
  try {
    const view = await found.view();
    if (signal.aborted) return;
    await view(main, ...found.args, new URLSearchParams(window.location.search), { signal, navigate });
  } catch (error) {
    if (error.name === "AbortError") return;
    clear(main, statusLine(error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`, "error"));
    if (!(error instanceof ApiError)) console.error(error);
  }
  // The view may have focused something of its own (a highlighted excerpt): keep it.
  const focused = document.activeElement;
  const ownFocus = focused && focused !== main && main.contains(focused);
  if (focus && !signal.aborted && !ownFocus) (main.querySelector("h1") || main).focus();
  if (signal.aborted) return;
  // How long the view took, every panel drawn (Performance API; bench/explorer.py reads it):
  // from the page's start on the first load, from the click after a navigation.
  performance.measure(focus ? "explorer:navigation" : "explorer:first-render", focus ? "explorer:navigate" : undefined);
  document.body.dataset.ready = "true"; // the view is drawn (tests and measurements wait for it)
}

// Go to a URL of the explorer: a new history entry (or the current one replaced), then draw.
export function navigate(url, { replace = false } = {}) {
  performance.clearMarks("explorer:navigate");
  performance.mark("explorer:navigate");
  const target = new URL(url, window.location.href);
  if (replace) history.replaceState(null, "", target);
  else history.pushState(null, "", target);
  document.body.dataset.ready = "false";
  render({ focus: !replace });
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || link.target) return;
  const url = new URL(link.href, window.location.href);
  const here = window.location;
  if (url.hash && url.pathname === here.pathname && url.search === here.search) return; // in-page (the skip link)
  if (url.origin !== window.location.origin || !(url.pathname === BASE || url.pathname.startsWith(`${BASE}/`))) return;
  event.preventDefault();
  navigate(url);
});

window.addEventListener("popstate", () => {
  if (viewKey() === drawnKey) return; // only the fragment changed (the skip link): same view
  performance.clearMarks("explorer:navigate");
  performance.mark("explorer:navigate");
  document.body.dataset.ready = "false";
  render({ focus: true });
});

render();
