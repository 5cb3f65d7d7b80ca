"""The metrics page shows the figures of the API, marks late rules and links failures to their logs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

from tests.metrics import world

PAGE = "/datasphere-sync/"


def figure(html: str, name: str) -> str:
    match = re.search(rf"data-figure='{name}'>([^<]*)<", html)
    assert match, name
    return unescape(match.group(1))


def test_page_shows_the_figures(client: Any, token_for: Any, session: Any) -> None:
    now = datetime.now(UTC)
    rules = world.build(now)
    world.insert(session, rules, now)
    headers = {"Authorization": f"Bearer {token_for()}"}
    response = client.get(PAGE, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    summary = client.get("/datasphere-sync/api/v1/summary", headers=headers).json()
    expected = world.expected(rules, datetime.fromisoformat(summary["window"]["since"]))

    assert figure(html, "runs") == str(sum(sum(e["runs"].values()) for e in expected.values()))
    assert figure(html, "assets-synced") == str(sum(e["assets_synced"] for e in expected.values()))
    assert figure(html, "assets-failed") == str(sum(e["assets"]["failed"] for e in expected.values()))
    assert figure(html, "late-rules") == "1"
    assert figure(html, "failures") == "3"
    assert "<svg" in html  # charts are inline SVG
    assert re.search(r"data-rule='finance'>.*?<span class='badge late'", html, re.S)
    assert "href='/dags/datasphere_sync__sales/runs/s2/tasks/sync_stage_0/mapped/0?try_number=2'" in html
    assert "target='_top'" in html  # the page lives in the UI's iframe; logs open in the UI itself
    assert "<script" not in html  # no CDN, no scripts: the machine may have no internet
    assert not re.search(r"(src|href)=['\"]https?:", html)
    for secret in world.SECRETS:
        assert secret not in html


def test_page_narrows_to_a_rule_through_its_link(client: Any, token_for: Any, session: Any) -> None:
    now = datetime.now(UTC)
    rules = world.build(now)
    world.insert(session, rules, now)
    headers = {"Authorization": f"Bearer {token_for()}"}
    html = client.get(PAGE, headers=headers).text
    link = re.search(r"<tr data-rule='sales'><td class='l'><a href='([^']*)'>sales</a>", html)
    assert link, "rule names link to the page narrowed to that rule"

    narrowed = client.get(PAGE + unescape(link.group(1)), headers=headers).text
    summary = client.get("/datasphere-sync/api/v1/summary", headers=headers).json()
    expected = world.expected(rules, datetime.fromisoformat(summary["window"]["since"]))
    assert figure(narrowed, "runs") == str(sum(expected["sales"]["runs"].values()))
    assert "data-rule='finance'" not in narrowed
    assert "show all rules" in narrowed
