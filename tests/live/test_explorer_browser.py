"""The explorer in a real browser: Playwright driving Debian's Chromium against the app served
on a loopback port (each backend's test database). Filters change the list, map and chart;
a citation opens its source text highlighted; an actor's network opens its evidence; a shared
URL reloads to the same view; axe-core finds no serious or critical violation on any page; and
no request leaves the app's origin, no CSP violation, no script error. Skipped, saying why,
where Chromium or Playwright is missing (`.ci/run` installs Chromium)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from api.store.db import bind
from tests.helpers import links, total

pytestmark = pytest.mark.slow  # a browser and a server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# Recorded from the first script that runs in each page: CSP violations and script errors.
WATCH = """
window.__problems = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__problems.push(`CSP: ${e.violatedDirective} blocked ${e.blockedURI}`));
window.addEventListener("error", (e) => window.__problems.push(`error: ${e.message}`));
window.addEventListener("unhandledrejection", (e) =>
  window.__problems.push(`rejection: ${e.reason}`));
"""


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is missing (apt-get install chromium): no browser tests")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(app, database_url: str) -> Iterator[str]:
    """The session's app (its backend's seeded database) on a free loopback port."""
    bind(database_url)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(timeout=10)


class Session:
    """A page of a fresh browser context that refuses, and records, every request to another
    origin than the app's."""

    def __init__(self, browser, base: str, width: int = 1280) -> None:
        self.base = base
        self.outside: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.context.route("**/*", self._route)
        self.context.add_init_script(WATCH)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)

    def _route(self, route) -> None:
        parts = urlsplit(route.request.url)
        if f"{parts.scheme}://{parts.netloc}" == self.base:
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def open(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.wait()

    def wait(self) -> None:
        """Until the view is drawn and every request it made has been answered."""
        self.page.wait_for_selector("body[data-ready=true]")
        self.page.wait_for_load_state("networkidle")

    def accessibility_violations(self) -> list[str]:
        """axe-core's serious and critical violations on the page as it stands."""
        self.page.evaluate(AXE.read_text() + "\n;0")  # evaluated, not injected: the CSP holds
        results = self.page.evaluate(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
            ".filter(v => ['serious', 'critical'].includes(v.impact))"
            ".map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`))"
        )
        return results

    def check_clean(self) -> None:
        assert self.outside == [], f"requests left the origin: {self.outside}"
        assert self.page.evaluate("window.__problems") == []


@pytest.fixture
def session(browser, server, database_url):
    bind(database_url)  # a previous test may have bound another database
    session = Session(browser, server)
    yield session
    session.context.close()


def list_titles(page) -> list[str]:
    return page.locator("#events-heading + .list ol.records > li > a").all_inner_texts()


def weekly_rows(page) -> dict[str, int]:
    """The chart's numbers, from its table (in a closed <details>: read, not seen)."""
    cells = page.locator(".chart ~ div table tbody td").all_text_contents()
    return {
        week: int(count.replace(",", ""))
        for week, count in zip(cells[::2], cells[1::2], strict=True)
    }


def expected_weeks(client, query: str) -> dict[str, int]:
    body = client.get(f"/v1/events/aggregate?group_by=week&fill=zero{query}").json
    return {g["key"]["week"]: g["count"] for g in body["groups"] if g["key"]["week"] and g["count"]}


def drawn_points(client, query: str) -> int:
    body = client.get(f"/v1/events?format=geojson&limit=500{query}").json
    return sum(1 for feature in body["features"] if feature["geometry"])


def test_filtering_by_an_actor_changes_list_map_and_chart_and_urls_are_shareable(session, client):
    page = session.page
    session.open("/explore")
    everything = total(client, "/v1/events")
    assert page.locator("main .status").first.inner_text() == f"{everything} events match."
    assert len(list_titles(page)) == min(everything, 20)
    assert f"{drawn_points(client, '')} events drawn as points" in page.inner_text("main")
    assert weekly_rows(page) == expected_weeks(client, "")
    assert page.locator("#chart canvas").count() >= 1

    actor = "kataib-hezbollah"
    page.fill("#f-actor", actor)
    page.press("#f-actor", "Enter")
    session.wait()
    assert page.url == f"{session.base}/explore?actor={actor}"
    expected = client.get(f"/v1/events?actor={actor}&limit=20").json
    assert list_titles(page) == [event["title"] for event in expected]
    assert 0 < len(expected) < everything
    assert f"{drawn_points(client, f'&actor={actor}')} events drawn as points" in page.inner_text(
        "main"
    )
    assert weekly_rows(page) == expected_weeks(client, f"&actor={actor}")
    filtered_view = page.inner_text("main")

    page.reload()  # the URL is the whole state: a shared link gives the same view
    session.wait()
    assert page.inner_text("main") == filtered_view
    assert page.input_value("#f-actor") == actor

    page.go_back()
    session.wait()
    assert page.url == f"{session.base}/explore"
    assert len(list_titles(page)) == min(everything, 20)
    page.go_forward()
    session.wait()
    assert list_titles(page) == [event["title"] for event in expected]
    session.check_clean()


def test_a_source_is_chosen_from_the_sources_listed_when_the_control_is_used(session, client):
    page = session.page
    source = client.get("/v1/sources?limit=100").json[-1]
    session.open("/explore")
    page.focus("#f-source")
    page.wait_for_selector(f"#f-source option[value='{source['id']}']", state="attached")
    page.select_option("#f-source", label=source["title"])
    page.click("form.filters button[type=submit]")
    session.wait()
    assert page.url == f"{session.base}/explore?source={source['id']}"
    expected = client.get(f"/v1/events?source={source['id']}&limit=20").json
    assert list_titles(page) == [event["title"] for event in expected]
    page.reload()
    session.wait()
    assert page.input_value("#f-source") == source["id"]
    session.check_clean()


def test_an_events_citation_opens_its_source_with_the_excerpt_highlighted(session, client):
    page = session.page
    event = client.get("/v1/events/rocket-strike-near-halliburton-2020-04-06").json
    excerpt = next(c["excerpt"] for c in event["citations"] if c["excerpt"])
    session.open("/explore")
    page.click(f"text={event['title']}")
    session.wait()
    assert page.locator("h1").inner_text() == event["title"]
    assert page.locator(".citations blockquote").first.inner_text() == excerpt
    page.locator(".citations").get_by_role("link", name="Read it in the source").first.click()
    session.wait()
    mark = page.locator("mark#excerpt")
    assert mark.inner_text().split() == excerpt.split()  # the text may break its lines
    box = mark.bounding_box()
    viewport = page.viewport_size
    assert box and box["y"] >= 0 and box["y"] + min(box["height"], 100) <= viewport["height"]
    assert page.evaluate("document.activeElement.id") == "excerpt"
    session.check_clean()


def test_an_actors_network_opens_the_evidence_of_a_tie(session, client):
    page = session.page
    network = client.get("/v1/actors/kataib-hezbollah/network?depth=1").json
    session.open("/explore/actors/kataib-hezbollah")
    page.get_by_role("link", name="See who Kataib Hezbollah is tied to (network)").click()
    session.wait()
    assert page.locator("h1").inner_text() == "Network of Kataib Hezbollah"
    assert page.locator("#graph canvas").count() >= 1
    ties = page.locator("ul.ties button")
    assert ties.count() == len(network["edges"])
    cited = next(i for i, e in enumerate(network["edges"]) if e.get("citations"))
    ties.nth(cited).click()
    evidence = page.locator("#evidence")
    excerpt = network["edges"][cited]["citations"][0]["excerpt"]
    assert excerpt in evidence.inner_text()
    page.get_by_role("link", name="2", exact=True).click()
    session.wait()
    assert page.url.endswith("/network?depth=2")
    depth2 = client.get("/v1/actors/kataib-hezbollah/network?depth=2").json
    assert page.locator("ul.ties button").count() == len(depth2["edges"])
    session.check_clean()


def test_api_errors_and_empty_results_are_said_in_words(session):
    page = session.page
    session.open("/explore?date_from=2020-02-30")
    alert = page.locator("[role=alert]").first
    assert "422" in alert.inner_text() and "date_from" in alert.inner_text()
    session.open("/explore?q=zzzqqqxxv")
    assert "No event matches these filters." in page.inner_text("main")
    session.open("/explore/actors/no-such-actor")
    assert "404" in page.locator("[role=alert]").inner_text()
    session.check_clean()


PAGES = [
    "/explore",
    "/explore?actor=kataib-hezbollah&type=explosions_remote_violence",
    "/explore/events/rocket-strike-near-halliburton-2020-04-06",
    "/explore/statements/mckenzie-2020-03-13-patriots-moving",
    "/explore/actors/kataib-hezbollah",
    "/explore/locations/ain-al-asad-air-base",
    "/explore/relations/mohammad-mohyee--spokesperson-for--kataib-hezbollah",
    "/explore/sources/al-monitor-2020-04-07-us-iran-showdown-iraq?excerpt=Kataib%20Hezbollah",
    "/explore/actors/kataib-hezbollah/network?depth=2",
]


def test_the_keyboard_skips_to_the_content_and_follows_links(session):
    page = session.page
    session.open("/explore/events/rocket-strike-near-halliburton-2020-04-06")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.url.endswith("/explore/events/rocket-strike-near-halliburton-2020-04-06#main")
    page.keyboard.press("Tab")  # the first link of the content: the breadcrumb's Overview
    assert page.evaluate("document.activeElement.textContent") == "Overview"
    page.keyboard.press("Enter")
    session.wait()
    assert page.url == f"{session.base}/explore"
    assert page.evaluate("document.activeElement.tagName") == "H1"  # focus follows the view
    session.check_clean()


def test_every_page_passes_axe_core(session, client):
    for path in PAGES:
        session.open(path)
        assert session.accessibility_violations() == [], path
    session.check_clean()


def test_a_phone_width_shows_one_column_without_sideways_scrolling(browser, server):
    phone = Session(browser, server, width=390)
    try:
        for path in ("/explore", "/explore/events/rocket-strike-near-halliburton-2020-04-06"):
            phone.open(path)
            width = phone.page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, path
        assert phone.accessibility_violations() == []
        phone.check_clean()
    finally:
        phone.context.close()


def test_paging_follows_the_lists_link(session, client):
    page = session.page
    following = links(client.get("/v1/events?limit=10")).get("next")
    assert following, "the test databases hold more than 10 events"
    session.open("/explore?limit=10")
    pager = page.locator("#events-heading + .list nav.pager")
    pager.get_by_role("link", name="Next page").click()
    session.wait()
    parts = urlsplit(following)
    expected = client.get(f"{parts.path}?{parts.query}").json
    assert list_titles(page) == [event["title"] for event in expected]
    assert "cursor=" in page.url and "limit=10" in page.url
