// Small DOM helpers: elements are built with text nodes, never from HTML strings.
import { ROOT } from "./api.js";

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "className") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
}

export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// A link to a view of the explorer (the router handles the click).
export function explorerLink(path, text, attributes = {}) {
  return el("a", { href: `${ROOT}/explore${path}`, ...attributes }, text);
}

export function recordLink(collection, reference) {
  return explorerLink(`/${collection}/${encodeURIComponent(reference.id)}`, reference.name || reference.title || reference.id);
}

// A live status line: loading, empty and error states say what happened.
export function statusLine(text = "", kind = "info") {
  return el("p", { className: `status status-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

export function setStatus(node, text, kind = "info") {
  node.className = `status status-${kind}`;
  node.setAttribute("role", kind === "error" ? "alert" : "status");
  node.textContent = text;
}

export function humanize(code) {
  return code == null ? "" : String(code).replaceAll("_", " ");
}

const PRECISION_WORDS = { day: "", week: "week of ", month: "", year: "" };

// A record's date as a reader says it: its precision and kind included.
export function dateText(record) {
  if (!record.date) return "date unknown";
  const precision = record.date_precision || "day";
  const shown = (date) =>
    precision === "year" ? date.slice(0, 4) : precision === "month" ? date.slice(0, 7) : date;
  const start = `${PRECISION_WORDS[precision] ?? ""}${shown(record.date)}`;
  const end = record.end_date ? shown(record.end_date) : null;
  switch (record.date_kind) {
    case "span": return `${start} to ${end}`;
    case "window": return `some time between ${start} and ${end}`;
    case "on_or_before": return `on or before ${start}`;
    default: return precision === "day" ? start : `${start} (${precision} precision)`;
  }
}

export function formatCount(value) {
  return value == null ? "an unknown number of" : Number(value).toLocaleString("en");
}
