// An actor's network (depth 1 or 2) drawn as a graph (Cytoscape.js); selecting an edge, on
// the graph or in the list beside it, opens its evidence.
import cytoscape from "../vendor/cytoscape/cytoscape.esm.min.js";
import { ROOT, getJSON } from "./api.js";
import { clear, el, explorerLink, humanize, recordLink, statusLine } from "./dom.js";
import { citationList } from "./record.js";

const KIND_COLOURS = {
  person: "#1b6ca8", organization: "#6a3d9a", armed_group: "#b2182b", state: "#1a7a3c",
  government_body: "#2d7f6f", military_unit: "#8c510a", company: "#5e5e5e", media_outlet: "#c05c00", coalition: "#7b3294",
};

function edgeLabel(edge) {
  return edge.kind === "relation" ? humanize(edge.predicate) : humanize(edge.kind);
}

export async function renderNetwork(main, actorId, params, { signal, navigate }) {
  const depth = params.get("depth") === "2" ? 2 : 1;
  clear(main, statusLine(`Loading the network of ${actorId}…`));
  const { data } = await getJSON(`/v1/actors/${encodeURIComponent(actorId)}/network`, { depth }, { signal });
  const names = Object.fromEntries(data.nodes.map((n) => [n.id, n.name]));
  document.title = `Network of ${data.actor.name} · Briefing explorer`;
  const graph = el("div", { className: "graph", id: "graph", role: "img", "aria-label": `Graph of ${data.nodes.length} actors and ${data.edges.length} ties around ${data.actor.name}; the same ties are listed below.` });
  const evidence = el("div", { className: "evidence", id: "evidence", "aria-live": "polite" }, statusLine("Select a tie, on the graph or in the list, to read its evidence."));
  const depthLinks = el("p", { className: "depth" }, "Depth: ", [1, 2].map((d) => [d === depth ? el("strong", { "aria-current": "page" }, String(d)) : explorerLink(`/actors/${encodeURIComponent(actorId)}/network?depth=${d}`, String(d)), " "]));
  const edgeButtons = data.edges.map((edge, index) =>
    el("li", {}, el("button", { type: "button", className: "link-button", onclick: () => showEvidence(index) }, `${names[edge.source] || edge.source} — ${edgeLabel(edge)} — ${names[edge.target] || edge.target}`)),
  );
  const kinds = [...new Set(data.nodes.map((n) => n.kind))];
  const legend = el("ul", { className: "legend", "aria-label": "Colours of the actors' kinds" }, kinds.map((kind) => {
    const swatch = el("span", { className: "swatch", "aria-hidden": "true" });
    swatch.style.backgroundColor = KIND_COLOURS[kind] || "#555"; // the CSSOM: allowed by the CSP
    return el("li", {}, swatch, humanize(kind));
  }));
  clear(
    main,
    el("p", { className: "breadcrumb" }, explorerLink("", "Overview"), " › ", recordLink("actors", data.actor), " › Network"),
    el("h1", { tabindex: "-1" }, `Network of ${data.actor.name}`),
    depthLinks,
    legend,
    el("div", { className: "network" }, graph, evidence),
    el("section", { "aria-labelledby": "ties-heading" }, el("h2", { id: "ties-heading" }, `Ties (${data.edges.length})`), data.edges.length ? el("ul", { className: "ties" }, edgeButtons) : statusLine("No tie is known.")),
  );

  let cy = null;
  function showEvidence(index) {
    const edge = data.edges[index];
    cy?.edges().unselect();
    cy?.getElementById(`edge-${index}`).select(); // the tie chosen in the list, marked on the graph
    const items = [
      el("h2", {}, `${names[edge.source] || edge.source} — ${edgeLabel(edge)} — ${names[edge.target] || edge.target}`),
    ];
    if (edge.events?.length) items.push(el("h3", {}, "Events"), el("ul", {}, edge.events.map((e) => el("li", {}, recordLink("events", typeof e === "string" ? { id: e } : e)))));
    if (edge.statements?.length) items.push(el("h3", {}, "Statements"), el("ul", {}, edge.statements.map((s) => el("li", {}, recordLink("statements", typeof s === "string" ? { id: s } : s)))));
    if (edge.citations?.length) items.push(citationList(edge.citations, "h3"));
    clear(evidence, items);
    evidence.querySelector("h2").setAttribute("tabindex", "-1");
    evidence.querySelector("h2").focus();
  }

  if (!data.nodes.length) return;
  if (!document.getElementById("__________cytoscape_stylesheet")) {
    // Cytoscape adds this stylesheet inline unless an element with its id exists; the page's
    // CSP allows no inline style, so the rule is in explorer.css and this marker stands in.
    document.head.append(el("meta", { id: "__________cytoscape_stylesheet", name: "cytoscape-stylesheet", content: "explorer.css" }));
  }
  cy = cytoscape({
    container: graph,
    elements: [
      ...data.nodes.map((n) => ({ data: { id: n.id, label: n.name, kind: n.kind, depth: n.depth, root: n.id === data.actor.id ? 1 : 0 } })),
      ...data.edges.map((e, index) => ({ data: { id: `edge-${index}`, index, source: e.source, target: e.target, label: edgeLabel(e) } })),
    ],
    style: [
      { selector: "node", style: { label: "data(label)", "font-size": 11, "text-wrap": "wrap", "text-max-width": 110, "background-color": (n) => KIND_COLOURS[n.data("kind")] || "#555", color: "#111", "text-valign": "bottom", "text-margin-y": 4, width: 18, height: 18 } },
      { selector: "node[root = 1]", style: { width: 30, height: 30, "border-width": 3, "border-color": "#111" } },
      { selector: "edge", style: { width: 1.5, "line-color": "#8a96a3", "target-arrow-color": "#8a96a3", "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(label)", "font-size": 9, color: "#333", "text-background-color": "#fff", "text-background-opacity": 0.8 } },
      { selector: "edge:selected", style: { width: 3, "line-color": "#c05c00", "target-arrow-color": "#c05c00" } },
    ],
    // Rings by distance from the actor: the actor in the middle, its ties around it.
    layout: { name: "concentric", concentric: (n) => 3 - n.data("depth"), levelWidth: () => 1, minNodeSpacing: 60, padding: 30, animate: false },
    minZoom: 0.2,
    maxZoom: 1.4,
  });
  cy.on("tap", "edge", (event) => showEvidence(event.target.data("index")));
  cy.on("tap", "node", (event) => navigate(`${ROOT}/explore/actors/${encodeURIComponent(event.target.id())}/network?depth=${depth}`));
  signal.addEventListener("abort", () => cy.destroy());
}
