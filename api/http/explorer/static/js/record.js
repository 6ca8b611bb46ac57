// A page per record: its fields, links to the records it names, and each citation; a
// citation opens its source's text with the excerpt highlighted and scrolled into view.
import { ROOT, getJSON, getText } from "./api.js";
import { clear, dateText, el, explorerLink, humanize, recordLink, statusLine } from "./dom.js";

const SINGULAR = { events: "Event", statements: "Statement", actors: "Actor", locations: "Place", sources: "Source", relations: "Relation" };
// The fields that name other records, and the collection of what they name.
const REFERENCES = {
  location: "locations", parent: "locations", ancestors: "locations", regions: "locations",
  speakers: "actors", on_behalf_of: "actors", addressees: "actors", mentions: "actors",
  subject: "actors", object: "actors", events: "events", statements: "statements",
};
const HIDDEN = new Set(["id", "citations", "version", "updated_at", "links", "counts", "relations", "participants", "casualties", "coordinates", "text", "summary", "description", "title", "name", "date", "end_date", "date_precision", "date_kind", "latitude", "longitude", "coordinate_precision", "aliases"]);

export async function renderRecord(main, collection, id, params, { signal }) {
  clear(main, statusLine(`Loading the ${SINGULAR[collection].toLowerCase()} ${id}…`));
  const { data: record } = await getJSON(`/v1/${collection}/${encodeURIComponent(id)}`, {}, { signal });
  const heading = record.title || record.name || (record.subject ? `${record.subject.name} ${humanize(record.predicate)} ${record.object.name}` : null) || record.text || record.id;
  document.title = `${heading} · Briefing explorer`;
  const body = el("article", { className: "record" });
  clear(
    main,
    el("p", { className: "breadcrumb" }, explorerLink("", "Overview"), ` › ${SINGULAR[collection]}`),
    el("h1", { tabindex: "-1" }, collection === "statements" && record.verbatim ? `“${heading}”` : heading),
    body,
  );
  body.append(fieldList(record, collection));
  if (record.summary || record.description) body.append(el("p", { className: "summary" }, record.summary || record.description));
  if (collection === "actors") {
    body.append(el("p", {}, explorerLink(`/actors/${encodeURIComponent(record.id)}/network`, `See who ${record.name} is tied to (network)`)));
    body.append(actorLists(record));
  }
  if (collection === "locations") body.append(el("p", {}, el("a", { href: `${ROOT}/explore?location=${encodeURIComponent(record.id)}` }, `Events in ${record.name} and its parts`)));
  if (record.citations) body.append(citationList(record.citations));
  if (collection === "sources") await sourceText(body, record, params.get("excerpt"), signal);
}

function fieldList(record, collection) {
  const rows = [];
  const row = (name, ...value) => rows.push(el("dt", {}, name), el("dd", {}, ...value));
  if (record.date !== undefined) row("Date", dateText(record));
  if (record.latitude != null) row("Coordinates", `${record.latitude}, ${record.longitude} (${humanize(record.coordinate_precision)})`);
  if (record.coordinates && collection === "events") {
    const c = record.coordinates;
    row("Coordinates", `${c.latitude}, ${c.longitude} (${humanize(c.precision)}, from ${humanize(c.source)})`);
  }
  if (record.aliases?.length) row("Also known as", record.aliases.map((a) => a.name).join(" · "));
  if (record.participants?.length) {
    row("Participants", el("ul", {}, record.participants.map((p) => el("li", {}, recordLink("actors", p.actor), ` (${humanize(p.role)})`))));
  }
  if (record.casualties?.length) {
    row("Casualties", el("ul", {}, record.casualties.map((c) => el("li", {}, casualtyText(c)))));
  }
  if (collection === "statements" && record.text) row(record.verbatim ? "Quoted words" : "What was said (paraphrase)", record.text);
  for (const [name, value] of Object.entries(record)) {
    if (HIDDEN.has(name) || value === null || value === undefined || (Array.isArray(value) && !value.length)) continue;
    const target = REFERENCES[name];
    if (target) {
      const list = [value].flat();
      row(humanize(name), ...list.flatMap((item, i) => [i ? ", " : "", recordLink(target, item)]));
    } else if (typeof value !== "object") {
      row(humanize(name), name === "url" ? el("a", { href: value, rel: "noreferrer noopener" }, value) : typeof value === "boolean" ? (value ? "yes" : "no") : humanize(value));
    }
  }
  return el("dl", { className: "fields" }, rows);
}

function casualtyText(c) {
  const side = c.side ? `${humanize(c.side)}: ` : "";
  const qualifier = c.qualifier && c.qualifier !== "exact" ? `${humanize(c.qualifier)} ` : "";
  const parts = [];
  if (c.killed != null) parts.push(`${qualifier}${c.killed} killed`);
  if (c.wounded != null) parts.push(`${qualifier}${c.wounded} wounded`);
  return side + (parts.join(", ") || "toll not given");
}

function actorLists(actor) {
  const section = el("section", { "aria-labelledby": "relations-heading" }, el("h2", { id: "relations-heading" }, "Relations"));
  if (!actor.relations?.length) {
    section.append(statusLine("No stated relation."));
  } else {
    section.append(el("ul", {}, actor.relations.map((r) => el("li", {}, recordLink("actors", r.subject), ` ${humanize(r.predicate)} `, recordLink("actors", r.object), " (", explorerLink(`/relations/${encodeURIComponent(r.id)}`, "evidence"), ")"))));
  }
  section.append(el("p", {}, el("a", { href: `${ROOT}/explore?actor=${encodeURIComponent(actor.id)}` }, `Events and statements of ${actor.name}`)));
  return section;
}

// A citation's "read it in the source" link: the source page with the excerpt highlighted.
export function sourceLink(citation, text = "Read it in the source") {
  const query = citation.excerpt ? `?excerpt=${encodeURIComponent(citation.excerpt)}` : "";
  return el("a", { href: `${ROOT}/explore/sources/${encodeURIComponent(citation.source.id)}${query}` }, text);
}

export function citationList(citations, headingLevel = "h2") {
  return el(
    "section",
    { className: "citations", "aria-label": "Citations" },
    el(headingLevel, {}, "Citations"),
    citations.length
      ? el(
          "ol",
          {},
          citations.map((c) =>
            el(
              "li",
              {},
              c.excerpt
                ? [el("blockquote", {}, c.excerpt), el("p", { className: "meta" }, `From ${c.source.title} · `, sourceLink(c))]
                : c.public_record
                  ? [
                      el("p", {}, el("strong", {}, "Public record: "), c.public_record.name),
                      el("p", {}, c.public_record.fact),
                      el("p", { className: "meta" }, `Supports: ${c.public_record.supports.map(humanize).join(", ")} · where: `, el("a", { href: c.public_record.where, rel: "noreferrer noopener" }, c.public_record.where), ` · cited in ${c.source.title}`),
                    ]
                  : el("p", {}, `Cited in `, recordLink("sources", c.source)),
            ),
          ),
        )
      : statusLine("No citation."),
  );
}

// Where the excerpt lies in the text: exactly, else with any run of spaces matching any other.
export function findExcerpt(text, excerpt) {
  const at = text.indexOf(excerpt);
  if (at >= 0) return [at, at + excerpt.length];
  const words = excerpt.trim().split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const match = new RegExp(words.join("\\s+")).exec(text);
  return match ? [match.index, match.index + match[0].length] : null;
}

async function sourceText(body, source, excerpt, signal) {
  const counts = source.counts || {};
  body.append(
    el("section", { "aria-labelledby": "extracted-heading" }, el("h2", { id: "extracted-heading" }, "What was drawn from it"),
      el("ul", {}, Object.entries(counts).map(([name, count]) => el("li", {}, `${count} ${name}`, name === "events" || name === "statements" ? [" (", el("a", { href: `${ROOT}/explore?source=${encodeURIComponent(source.id)}` }, "list them"), ")"] : "")))),
  );
  const status = statusLine("Loading the source's text…");
  const textBox = el("div", { className: "source-text", id: "source-text" });
  body.append(el("section", { "aria-labelledby": "text-heading" }, el("h2", { id: "text-heading" }, "The text"), status, textBox));
  const text = await getText(`/v1/sources/${encodeURIComponent(source.id)}/text`, { signal });
  const span = excerpt ? findExcerpt(text, excerpt) : null;
  if (!span) {
    textBox.append(text);
    status.textContent = excerpt ? "The excerpt was not found in this text; the whole text follows." : "";
    if (!excerpt) status.remove();
    return;
  }
  const mark = el("mark", { id: "excerpt", tabindex: "-1" }, text.slice(span[0], span[1]));
  textBox.append(text.slice(0, span[0]), mark, text.slice(span[1]));
  status.textContent = "The cited excerpt is highlighted below.";
  mark.scrollIntoView({ block: "center" });
  mark.focus({ preventScroll: true });
}
