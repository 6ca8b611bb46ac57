// The public API, as the explorer reads it: every call is one any client could make.
export const ROOT = document.documentElement.dataset.root || "";

export class ApiError extends Error {}

// `params`: an object or URLSearchParams; a list value repeats its parameter.
export function apiUrl(path, params = {}) {
  const url = new URL(ROOT + path, window.location.origin);
  const entries = params instanceof URLSearchParams ? params.entries() : Object.entries(params);
  for (const [name, value] of entries) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== undefined && one !== null && one !== "") url.searchParams.append(name, one);
    }
  }
  return url;
}

// A JSON answer and its response; a failure becomes an ApiError whose message says in words
// what the API said (its problem+json `detail`) or that it could not be reached.
export async function getJSON(path, params = {}, { signal } = {}) {
  const url = apiUrl(path, params);
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" }, signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(`The API could not be reached (${url.pathname}): ${error.message}.`);
  }
  if (!response.ok) throw new ApiError(await problemText(response));
  return { data: await response.json(), response };
}

export async function getText(path, { signal } = {}) {
  const url = apiUrl(path);
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "text/plain" }, signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(`The API could not be reached (${url.pathname}): ${error.message}.`);
  }
  if (!response.ok) throw new ApiError(await problemText(response));
  return response.text();
}

async function problemText(response) {
  try {
    const problem = await response.json();
    const where = (problem.errors || []).map((e) => e.path).filter(Boolean);
    const detail = problem.detail || problem.title || response.statusText;
    return `The API answered ${response.status} (${problem.title || response.statusText}): ${detail}` +
      (where.length && !detail.includes(where[0]) ? ` [${where.join(", ")}]` : "");
  } catch {
    return `The API answered ${response.status} ${response.statusText}.`;
  }
}

// The total a list reports: exact, or an estimate beyond EXACT_COUNT_LIMIT.
export function totalOf(response) {
  const exact = response.headers.get("X-Total-Count");
  if (exact !== null) return { count: Number(exact), estimate: false };
  const estimate = response.headers.get("X-Total-Count-Estimate");
  return { count: estimate === null ? null : Number(estimate), estimate: true };
}

// rel -> URL of an RFC 8288 Link header.
export function links(response) {
  const found = {};
  for (const [, url, rel] of (response.headers.get("Link") || "").matchAll(/<([^>]+)>;\s*rel="(\w+)"/g)) {
    found[rel] = new URL(url);
  }
  return found;
}

// The vocabularies (codes and their meanings), fetched once per page load.
let vocabularies;
export function getVocabularies() {
  vocabularies ??= getJSON("/v1/vocabularies").then(({ data }) => data);
  return vocabularies;
}
