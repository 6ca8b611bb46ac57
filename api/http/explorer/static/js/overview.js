// The overview: search and the list filters as controls, facet counts beside them, the
// matching events and statements as paged lists, a map and a weekly chart. Every request is
// a public API call with the filters of the URL.
import { ApiError, ROOT, getJSON, getVocabularies, links, totalOf } from "./api.js";
import { drawWeeks } from "./chart.js";
import { clear, dateText, el, explorerLink, humanize, setStatus, statusLine } from "./dom.js";
import { mapElement, mapShown, showGrid, showPoints } from "./map.js";

// The filters the page shows, each a list filter of /v1/events (statements take some).
export const FILTERS = ["q", "actor", "type", "location", "date_from", "date_to", "source"];
const STATEMENT_FILTERS = ["q", "actor", "date_from", "date_to", "source"];
const PAGE = 20;
const STATEMENTS_PAGE = 10;
const POINTS_MAX = 500; // beyond, the map shows a grid of counts
const GRID_CELL = 1; // degrees
const FACETS = [
  ["type", "Event type"],
  ["actor", "Actor"],
  ["location", "Place"],
];

function filtersOf(params, names = FILTERS) {
  const filters = {};
  for (const name of names) {
    const values = params.getAll(name).filter(Boolean);
    if (values.length) filters[name] = values;
  }
  return filters;
}

function overviewUrl(filters, extra = {}) {
  const params = new URLSearchParams();
  for (const [name, values] of Object.entries({ ...filters, ...extra })) {
    for (const value of [values].flat()) if (value) params.append(name, value);
  }
  const query = params.toString();
  return `${ROOT}/explore${query ? `?${query}` : ""}`;
}

export async function renderOverview(main, params, { signal, navigate }) {
  const filters = filtersOf(params);
  const statementFilters = filtersOf(params, STATEMENT_FILTERS);
  const cursor = params.get("cursor");
  const pageSize = Math.min(Math.max(Number(params.get("limit")) || PAGE, 1), 100);
  const statementsCursor = params.get("statements_cursor");
  document.title = "Overview · Briefing explorer";

  const summary = statusLine("Loading the matching events…");
  const form = filterForm(filters, navigate);
  const facets = el("div", { className: "facets" });
  const mapStatus = statusLine("Loading the map…");
  const chartBox = el("div", { className: "chart", id: "chart" });
  const chartStatus = statusLine("Loading the weekly series…");
  const imprecise = el("div", { className: "imprecise" });
  const chartTable = el("div");
  const eventsList = el("div", { className: "list" }, statusLine("Loading the events…"));
  const statementsList = el("div", { className: "list" }, statusLine("Loading the statements…"));
  const map = mapElement();
  map.setAttribute("role", "region");
  map.setAttribute("aria-label", "Map of the matching events");

  clear(
    main,
    el("h1", { tabindex: "-1" }, "Events and statements"),
    el(
      "div",
      { className: "overview" },
      el("aside", { className: "controls", "aria-label": "Filters and counts" }, form, facets),
      el(
        "div",
        { className: "results" },
        summary,
        el("section", { "aria-labelledby": "map-heading" }, el("h2", { id: "map-heading" }, "Where"), map, mapStatus),
        el(
          "section",
          { "aria-labelledby": "chart-heading" },
          el("h2", { id: "chart-heading" }, "Events per week"),
          chartBox,
          chartStatus,
          imprecise,
          chartTable,
        ),
        el("section", { "aria-labelledby": "events-heading" }, el("h2", { id: "events-heading" }, "Events"), eventsList),
        el("section", { "aria-labelledby": "statements-heading" }, el("h2", { id: "statements-heading" }, "Statements"), statementsList),
      ),
    ),
  );
  mapShown();

  const failed = (node) => (error) => {
    if (error.name === "AbortError") return;
    setStatus(node, error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`, "error");
  };
  const tasks = [];

  // The list: its total decides between points and a grid on the map.
  tasks.push(
    getJSON("/v1/events", { ...filters, limit: pageSize, cursor, fields: "id,title,date,end_date,date_precision,date_kind,type,location,fatalities" }, { signal })
      .then(({ data, response }) => {
        const total = totalOf(response);
        setStatus(summary, summaryText(total, filters));
        clear(eventsList, eventItems(data, total, response, filters, params, "cursor"));
        return drawMap(filters, total, mapStatus, signal);
      })
      .catch((error) => {
        failed(summary)(error);
        failed(mapStatus)(error);
        clear(eventsList);
      }),
  );
  tasks.push(drawChart(filters, chartBox, chartStatus, imprecise, chartTable, signal).catch(failed(chartStatus)));
  tasks.push(drawFacets(facets, filters, navigate, signal));
  if (filters.type || filters.location) {
    clear(statementsList, statusLine("Statements have no event type or place: clear those filters to list the statements that match the others."));
  } else {
    tasks.push(
      getJSON("/v1/statements", { ...statementFilters, limit: STATEMENTS_PAGE, cursor: statementsCursor, fields: "id,text,verbatim,speakers,date,end_date,date_precision,date_kind,channel" }, { signal })
        .then(({ data, response }) => clear(statementsList, statementItems(data, totalOf(response), response, filters, params)))
        .catch((error) => {
          const line = statusLine("");
          clear(statementsList, line);
          failed(line)(error);
        }),
    );
  }
  await Promise.all(tasks);
}

function summaryText(total, filters) {
  const count = total.count == null ? "Some" : `${total.estimate ? "About " : ""}${total.count.toLocaleString("en")}`;
  const what = total.count === 1 ? "event matches" : "events match";
  if (total.count === 0) return Object.keys(filters).length ? "No event matches these filters." : "There are no events yet.";
  return `${count} ${what}${Object.keys(filters).length ? " these filters" : ""}.`;
}

async function drawMap(filters, total, mapStatus, signal) {
  if (total.count === 0) {
    showPoints([], () => "");
    setStatus(mapStatus, "Nothing to show on the map.");
    return;
  }
  if (total.count != null && total.count <= POINTS_MAX && !total.estimate) {
    const { data } = await getJSON("/v1/events", { ...filters, format: "geojson", limit: POINTS_MAX, fields: "id,title" }, { signal });
    showPoints(data.features, (id) => `${ROOT}/explore/events/${encodeURIComponent(id)}`);
    const unplaced = data.features.filter((f) => !f.geometry).length;
    setStatus(mapStatus, `${data.features.length - unplaced} events drawn as points` + (unplaced ? `; ${unplaced} have no coordinates and are not drawn.` : "."));
    return;
  }
  const { data } = await getJSON("/v1/events/aggregate", { ...filters, group_by: "grid", cell: GRID_CELL }, { signal });
  showGrid(data.groups, GRID_CELL);
  const outside = data.groups.filter((g) => !g.key.grid).reduce((sum, g) => sum + g.count, 0);
  setStatus(
    mapStatus,
    `Too many events to draw one by one: a grid of ${GRID_CELL}° cells, ${data.groups.filter((g) => g.key.grid).length.toLocaleString("en")} cells` +
      (outside ? `; ${outside.toLocaleString("en")} events have no point of their own (a place known only as an area, or none) and are not on the grid.` : "."),
  );
}

async function drawChart(filters, chartBox, chartStatus, imprecise, chartTable, signal) {
  const [{ data }, vocabularies] = await Promise.all([
    getJSON("/v1/events/aggregate", { ...filters, group_by: "week", fill: "zero" }, { signal }),
    getVocabularies(),
  ]);
  const weeks = data.groups.filter((g) => g.key.week);
  const vague = data.groups.filter((g) => !g.key.week);
  const placed = weeks.reduce((sum, g) => sum + g.count, 0);
  const meanings = Object.fromEntries((vocabularies.imprecise_reasons || []).map((r) => [r.code, r.meaning]));
  if (!weeks.length) {
    chartBox.replaceChildren();
    setStatus(chartStatus, vague.length ? "No event has a date precise enough for one week." : "No dated event matches.");
  } else {
    drawWeeks(chartBox, weeks);
    setStatus(chartStatus, `${placed.toLocaleString("en")} events placed in ${weeks.length.toLocaleString("en")} weeks, from ${weeks[0].key.week} to ${weeks.at(-1).key.week}.`);
  }
  clear(
    imprecise,
    vague.length
      ? [
          el("h3", {}, "Not in any one week"),
          el(
            "ul",
            { className: "imprecise-list" },
            vague.map((g) => {
              const reason = g.imprecise?.week || "unknown";
              return el("li", {}, el("strong", {}, `${g.count.toLocaleString("en")} ${g.count === 1 ? "event" : "events"}`), `: ${humanize(reason)}. `, el("span", { className: "meaning" }, (meanings[reason] || "").replaceAll("`", "")));
            }),
          ),
        ]
      : [],
  );
  const nonZero = weeks.filter((w) => w.count);
  clear(
    chartTable,
    nonZero.length
      ? el(
          "details",
          {},
          el("summary", {}, "The weekly counts as a table"),
          el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Week"), el("th", { scope: "col" }, "Events"))),
            el("tbody", {}, nonZero.map((w) => el("tr", {}, el("td", {}, w.key.week), el("td", {}, w.count.toLocaleString("en")))))),
        )
      : [],
  );
}

async function drawFacets(container, filters, navigate, signal) {
  const boxes = FACETS.map(([field, label]) => {
    const status = statusLine(`Counting by ${label.toLowerCase()}…`);
    const box = el("section", { className: "facet", "aria-label": `Counts by ${label.toLowerCase()}` }, el("h2", {}, `By ${label.toLowerCase()}`), status);
    return { field, label, box, status };
  });
  clear(container, boxes.map((b) => b.box));
  await Promise.all(
    boxes.map(async ({ field, box, status }) => {
      try {
        const { data } = await getJSON("/v1/events/facets", { ...filters, field, buckets: 8 }, { signal });
        if (!data.length) {
          setStatus(status, "None.");
          return;
        }
        status.remove();
        box.append(
          el(
            "ul",
            {},
            data.map((bucket) => {
              const chosen = (filters[field] || []).includes(bucket.value);
              const name = bucket.label || humanize(bucket.value);
              return el(
                "li",
                {},
                el("a", {
                  href: overviewUrl({ ...filters, [field]: bucket.value }),
                  "aria-current": chosen ? "true" : null,
                }, name),
                " ",
                el("span", { className: "count" }, bucket.count.toLocaleString("en")),
              );
            }),
          ),
        );
      } catch (error) {
        if (error.name !== "AbortError") setStatus(status, error.message, "error");
      }
    }),
  );
}

function filterForm(filters, navigate) {
  const first = (name) => (filters[name] || [""])[0];
  const field = (name, label, input, hint) =>
    el("div", { className: "field" }, el("label", { for: `f-${name}` }, label), input, hint ? el("small", { id: `f-${name}-hint` }, hint) : null);
  const text = (name, attributes = {}) => el("input", { id: `f-${name}`, name, type: "text", value: first(name), autocomplete: "off", ...attributes });
  const actorOptions = el("datalist", { id: "actor-options" });
  const placeOptions = el("datalist", { id: "place-options" });
  const typeSelect = el("select", { id: "f-type", name: "type" }, el("option", { value: "" }, "Any type"));
  const sourceSelect = el("select", { id: "f-source", name: "source" }, el("option", { value: "" }, "Any source"));
  const actorInput = text("actor", { list: "actor-options", "aria-describedby": "f-actor-hint" });
  const placeInput = text("location", { list: "place-options", "aria-describedby": "f-location-hint" });

  getVocabularies().then((v) => {
    for (const type of v.event_types || []) typeSelect.append(el("option", { value: type.code, selected: type.code === first("type") }, humanize(type.code)));
  }).catch(() => {});
  // The sources are listed when the control is first used (a source's counts cost the API a
  // count per collection): until then it holds the chosen one, by id.
  if (first("source")) sourceSelect.append(el("option", { value: first("source"), selected: true }, first("source")));
  let sourcesAsked = false;
  const listSources = () => {
    if (sourcesAsked) return;
    sourcesAsked = true;
    getJSON("/v1/sources", { limit: 100, fields: "id,title" }).then(({ data }) => {
      sourceSelect.replaceChildren(el("option", { value: "" }, "Any source"),
        ...data.map((source) => el("option", { value: source.id, selected: source.id === first("source") }, source.title)));
    }).catch(() => { sourcesAsked = false; });
  };
  for (const event of ["focus", "pointerdown"]) sourceSelect.addEventListener(event, listSources);
  suggest(actorInput, actorOptions, "/v1/actors");
  suggest(placeInput, placeOptions, "/v1/locations");

  const form = el(
    "form",
    { role: "search", "aria-label": "Filter the events and statements", className: "filters" },
    el("h2", {}, "Filters"),
    field("q", "Words", el("input", { id: "f-q", name: "q", type: "search", value: first("q"), placeholder: "e.g. rocket" })),
    field("actor", "Actor (id)", actorInput, "Type a name and pick one."),
    actorOptions,
    field("type", "Event type", typeSelect),
    field("location", "Place (id), its parts included", placeInput, "Type a name and pick one."),
    placeOptions,
    el("div", { className: "dates" }, field("date_from", "From", el("input", { id: "f-date_from", name: "date_from", type: "date", value: first("date_from") })),
      field("date_to", "To", el("input", { id: "f-date_to", name: "date_to", type: "date", value: first("date_to") }))),
    field("source", "Source", sourceSelect),
    el("div", { className: "buttons" }, el("button", { type: "submit" }, "Apply"), explorerLink("", "Clear all", { className: "button-link" })),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = {};
    for (const [name, value] of new FormData(form)) if (value.trim()) chosen[name] = value.trim();
    navigate(overviewUrl(chosen));
  });
  return form;
}

// Suggestions for an id field: records whose names match what is typed (the list's `q`).
function suggest(input, datalist, path) {
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const words = input.value.trim();
    if (words.length < 2) return;
    timer = setTimeout(async () => {
      try {
        const { data } = await getJSON(path, { q: words, limit: 10, fields: "id,name" });
        datalist.replaceChildren(...data.map((record) => el("option", { value: record.id }, record.name)));
      } catch {
        datalist.replaceChildren();
      }
    }, 250);
  });
}

function pager(response, filters, params, cursorName, label) {
  const found = links(response);
  const nav = el("nav", { className: "pager", "aria-label": `${label} pages` });
  for (const [rel, text] of [["prev", "Previous page"], ["next", "Next page"]]) {
    if (!found[rel]) continue;
    const extra = Object.fromEntries([...params].filter(([name]) => !FILTERS.includes(name)));
    extra[cursorName] = found[rel].searchParams.get("cursor");
    nav.append(el("a", { href: overviewUrl(filters, extra), rel }, text), " ");
  }
  return nav.childNodes.length ? nav : null;
}

function eventItems(events, total, response, filters, params, cursorName) {
  if (!events.length) return statusLine(total.count === 0 ? "No event matches these filters." : "No more events.");
  return [
    el(
      "ol",
      { className: "records" },
      events.map((event) =>
        el(
          "li",
          {},
          explorerLink(`/events/${encodeURIComponent(event.id)}`, event.title),
          el("div", { className: "meta" }, [dateText(event), humanize(event.type), event.location?.name, event.fatalities != null ? `${event.fatalities} killed` : null].filter(Boolean).join(" · ")),
        ),
      ),
    ),
    pager(response, filters, params, cursorName, "Event"),
  ];
}

function statementItems(statements, total, response, filters, params) {
  if (!statements.length) return statusLine(total.count === 0 ? "No statement matches these filters." : "No more statements.");
  return [
    el(
      "ol",
      { className: "records" },
      statements.map((statement) =>
        el(
          "li",
          {},
          explorerLink(`/statements/${encodeURIComponent(statement.id)}`, statement.verbatim ? `“${statement.text}”` : statement.text),
          el("div", { className: "meta" }, [statement.speakers.map((s) => s.name).join(", ") || "unnamed speaker", dateText(statement), humanize(statement.channel)].filter(Boolean).join(" · ")),
        ),
      ),
    ),
    `${total.estimate ? "About " : ""}${(total.count ?? 0).toLocaleString("en")} statements in all.`,
    pager(response, filters, params, "statements_cursor", "Statement"),
  ];
}
