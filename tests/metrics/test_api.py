"""The metrics API, Prometheus text and page, called through Airflow's API server against known rows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.metrics import world
from tests.metrics.auth import RestrictedAuthManager

PREFIX = "/datasphere-sync"
API = f"{PREFIX}/api/v1"
ENDPOINTS = (
    f"{PREFIX}/",
    f"{PREFIX}/metrics",
    f"{API}/summary",
    f"{API}/rules",
    f"{API}/queue",
    f"{API}/failures",
)
OUTCOMES = ("created", "updated", "unchanged", "deleted", "skipped", "failed")


@pytest.fixture
def seeded(session: Any) -> list[world.Rule]:
    now = datetime.now(UTC)
    rules = world.build(now)
    world.insert(session, rules, now)
    return rules


@pytest.fixture
def admin(token_for: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for('admin', 'ADMIN')}"}


@pytest.fixture
def viewer(token_for: Any) -> Any:
    RestrictedAuthManager.ALLOWED["viewer"] = {
        f"datasphere_sync__{name}" for name in ("sales", "finance", "hr")
    }
    yield {"Authorization": f"Bearer {token_for('viewer', 'VIEWER')}"}
    RestrictedAuthManager.ALLOWED.pop("viewer", None)


def get_json(client: Any, path: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def since_of(document: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(document["window"]["since"])


class TestLogin:
    @pytest.mark.parametrize("path", ENDPOINTS)
    def test_no_cookie_or_token_is_401(self, client: Any, seeded: Any, path: str) -> None:
        response = client.get(path)
        assert response.status_code == 401
        assert "sales" not in response.text

    @pytest.mark.parametrize("path", ENDPOINTS)
    def test_forged_token_is_refused(self, client: Any, seeded: Any, path: str) -> None:
        response = client.get(path, headers={"Authorization": "Bearer not-a-jwt"})
        assert response.status_code in (401, 403)
        assert "sales" not in response.text

    @pytest.mark.parametrize("path", ENDPOINTS)
    def test_ui_cookie_is_accepted(self, client: Any, seeded: Any, token_for: Any, path: str) -> None:
        client.cookies.set("_token", token_for("admin", "ADMIN"))
        try:
            response = client.get(path)
        finally:
            client.cookies.clear()
        assert response.status_code == 200
        assert "datasphere_sync" in response.text or '"api_version":"v1"' in response.text


class TestRules:
    def test_every_rule_figure_matches_the_rows(self, client: Any, seeded: Any, admin: Any) -> None:
        document = get_json(client, f"{API}/rules", admin)
        expected = world.expected(seeded, since_of(document))
        got = {entry["rule"]: entry for entry in document["rules"]}

        assert set(got) == {"sales", "finance", "hr", "secretrule"}  # payroll_export is not a sync DAG
        for name, want in expected.items():
            entry = got[name]
            assert entry["runs"] == want["runs"], name
            assert entry["jobs"] == want["jobs"], name
            assert entry["success_rate"] == pytest.approx(want["success_rate"]), name
            assert entry["job_duration_seconds"] == {"p50": want["p50"], "p95": want["p95"]}, name
            assert entry["assets"] == want["assets"], name
            assert entry["assets_synced"] == want["assets_synced"], name
            assert entry["assets_per_minute"] == pytest.approx(want["assets_per_minute"]), name

    def test_known_values_of_sales(self, client: Any, seeded: Any, admin: Any) -> None:
        # Read off the world by hand, so a slip in world.expected cannot hide one in the plugin.
        sales = next(e for e in get_json(client, f"{API}/rules", admin)["rules"] if e["rule"] == "sales")
        assert sales["runs"] == {"success": 3, "failed": 1}
        assert sales["jobs"] == {"success": 5, "failed": 1, "upstream_failed": 1}
        assert sales["success_rate"] == pytest.approx(0.75)
        assert sales["job_duration_seconds"] == {"p50": 12.0, "p95": 30.0}  # of 6, 8, 12, 18, 25, 30
        assert sales["assets"] == {
            "created": 4,
            "updated": 1,
            "unchanged": 19,
            "deleted": 2,
            "skipped": 0,
            "failed": 1,
        }
        assert sales["assets_per_minute"] == pytest.approx(26 / (100 / 60))

    def test_freshness_marks_late_rules(self, client: Any, seeded: Any, admin: Any) -> None:
        document = get_json(client, f"{API}/rules", admin)
        freshness = {entry["rule"]: entry["freshness"] for entry in document["rules"]}

        assert freshness["sales"]["status"] == "ok"
        assert freshness["sales"]["age_seconds"] == pytest.approx(20 * 60, abs=30)
        assert freshness["sales"]["promise_seconds"] == 75 * 60
        assert freshness["finance"]["status"] == "late"  # daily, last success 39h50m ago
        assert freshness["finance"]["age_seconds"] == pytest.approx((39 * 60 + 50) * 60, abs=30)
        assert freshness["finance"]["last_run_state"] == "running"  # f3 is under way, f2 failed
        assert freshness["hr"]["status"] == "unscheduled"
        assert freshness["hr"]["last_success"] is None
        assert freshness["secretrule"]["status"] == "ok"
        assert document["late"] == 1


class TestSummary:
    def test_totals_priorities_and_series_add_up_to_the_rows(
        self, client: Any, seeded: Any, admin: Any
    ) -> None:
        document = get_json(client, f"{API}/summary", admin)
        expected = world.expected(seeded, since_of(document))
        by_priority = {rule.priority: expected[rule.name] for rule in seeded}

        totals = document["totals"]
        assert sum(totals["runs"].values()) == sum(sum(e["runs"].values()) for e in expected.values())
        assert totals["assets"] == {o: sum(e["assets"][o] for e in expected.values()) for o in OUTCOMES}
        every_duration = [d for e in expected.values() for d in e["durations"]]
        assert totals["job_duration_seconds"] == {
            "p50": world.nearest_rank(every_duration, 50),
            "p95": world.nearest_rank(every_duration, 95),
        }
        for priority, figures in document["priorities"].items():
            want = by_priority[priority]
            assert figures["runs"] == want["runs"], priority
            assert figures["assets"] == want["assets"], priority
            assert figures["job_duration_seconds"] == {"p50": want["p50"], "p95": want["p95"]}, priority
        assert "LOW" not in document["priorities"] or not document["priorities"]["LOW"]["runs"]

        series = document["series"]
        assert len(series["bucket_starts"]) == 24
        runs_in_buckets = sum(
            sum(sum(lane) for lane in states.values()) for states in series["runs"].values()
        )
        assert runs_in_buckets == sum(totals["runs"].values())
        assert sum(sum(lane) for lane in series["assets_synced"].values()) == totals["assets_synced"]
        # s3 (30 minutes ago) falls in the last bucket, s1 (3 hours ago) in the fourth from last.
        assert series["runs"]["CRITICAL"]["success"][-1] == 1
        assert series["runs"]["CRITICAL"]["success"][-4] == 1

    def test_window_narrows_the_runs_counted(self, client: Any, seeded: Any, admin: Any) -> None:
        document = get_json(client, f"{API}/summary", admin, window_hours=1)
        # s3 (30 min), secretrule's m1 and finance's f3 (10 min) are the only runs due in the last hour.
        assert document["totals"]["runs"] == {"success": 2, "running": 1}
        assert document["window"]["seconds"] == 3600

    def test_window_is_bounded(self, client: Any, seeded: Any, admin: Any) -> None:
        assert (
            client.get(f"{API}/summary", headers=admin, params={"window_hours": 24 * 365}).status_code == 422
        )
        assert client.get(f"{API}/summary", headers=admin, params={"window_hours": 0}).status_code == 422

    def test_filters_by_rule_and_priority(self, client: Any, seeded: Any, admin: Any) -> None:
        by_rule = get_json(client, f"{API}/rules", admin, rule="finance")
        assert [e["rule"] for e in by_rule["rules"]] == ["finance"]
        by_priority = get_json(client, f"{API}/summary", admin, priority="critical")
        assert list(by_priority["priorities"]) == ["CRITICAL"]
        assert by_priority["rules"] == 1


class TestQueue:
    def test_running_run_shows_in_the_queue(self, client: Any, seeded: Any, admin: Any) -> None:
        queue = get_json(client, f"{API}/queue", admin)
        assert queue["by_priority"] == {
            "HIGH": {
                "scheduled": 2,
                "queued": 1,
                "running": 1,
                "deferred": 0,
                "up_for_retry": 0,
                "waiting": 3,
            }
        }
        assert queue["pools"]["datasphere_sync"]["used"] == world.POOL_SLOTS
        assert queue["pools"]["datasphere_sync"]["open"] == 0


class TestFailures:
    def test_recent_failures_with_scrubbed_errors_and_log_links(
        self, client: Any, seeded: Any, admin: Any
    ) -> None:
        failures = get_json(client, f"{API}/failures", admin)["failures"]
        seen = [(f["rule"], f["run_id"], f["task_id"], f["map_index"]) for f in failures]

        # Newest end first (seeded jobs all start 5 s into their run, so the 25 s job ends after the
        # 1 s finalize); the 30-day-old failure is outside the window; payroll_export is not ours.
        assert seen == [
            ("sales", "s2", "sync_stage_0", 0),
            ("sales", "s2", "finalize", -1),
            ("finance", "f2", "sync_stage_0", 0),
        ]
        job = failures[0]
        assert job["try_number"] == 2
        assert job["label"] == "SALES: V_SECRET"
        assert job["errors"][0].startswith("SALES/V_SECRET: Glue refused the table: password=***")
        assert (
            job["log_url"] == "/dags/datasphere_sync__sales/runs/s2/tasks/sync_stage_0/mapped/0?try_number=2"
        )
        assert failures[1]["log_url"] == "/dags/datasphere_sync__sales/runs/s2/tasks/finalize?try_number=1"
        assert failures[2]["errors"] == ["no report; the error is in the task's log"]

    def test_limit(self, client: Any, seeded: Any, admin: Any) -> None:
        assert len(get_json(client, f"{API}/failures", admin, limit=1)["failures"]) == 1
        assert client.get(f"{API}/failures", headers=admin, params={"limit": 100000}).status_code == 422


class TestAccess:
    def test_viewer_sees_only_the_dags_it_may_read(self, client: Any, seeded: Any, viewer: Any) -> None:
        rules = get_json(client, f"{API}/rules", viewer)
        assert sorted(e["rule"] for e in rules["rules"]) == ["finance", "hr", "sales"]
        summary = get_json(client, f"{API}/summary", viewer)
        expected = world.expected([r for r in seeded if r.name != "secretrule"], since_of(summary))
        assert sum(summary["totals"]["runs"].values()) == sum(
            sum(e["runs"].values()) for e in expected.values()
        )
        assert "MEDIUM" not in summary["priorities"]
        for path in ENDPOINTS:
            response = client.get(path, headers=viewer)
            assert response.status_code == 200, path
            assert "secretrule" not in response.text, path

    def test_user_without_dag_access_sees_nothing(self, client: Any, seeded: Any, token_for: Any) -> None:
        RestrictedAuthManager.ALLOWED["nobody"] = set()
        try:
            headers = {"Authorization": f"Bearer {token_for('nobody', 'VIEWER')}"}
            assert get_json(client, f"{API}/rules", headers)["rules"] == []
            assert get_json(client, f"{API}/summary", headers)["totals"]["runs"] == {}
            assert get_json(client, f"{API}/failures", headers)["failures"] == []
        finally:
            RestrictedAuthManager.ALLOWED.pop("nobody", None)


class TestNoSecrets:
    def test_no_secret_or_connection_detail_in_any_output(
        self, client: Any, seeded: Any, admin: Any, session: Any
    ) -> None:
        from airflow.models.connection import Connection

        session.add(
            Connection(
                conn_id="datasphere_default",
                conn_type="datasphere",
                host="https://tenant-zz9.hana.example",
                login="client-id-zz9",
                password="client-secret-zz9",
                extra='{"token_url": "https://auth-zz9.example"}',
            )
        )
        session.commit()
        leaks = (*world.SECRETS, "tenant-zz9", "client-id-zz9", "client-secret-zz9", "auth-zz9")
        for path in ENDPOINTS:
            body = client.get(path, headers=admin).text
            for leak in leaks:
                assert leak not in body, (path, leak)


class TestPrometheus:
    def test_same_figures_in_exposition_format(self, client: Any, seeded: Any, admin: Any) -> None:
        response = client.get(f"{PREFIX}/metrics", headers=admin)
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        samples = parse_prometheus(response.text)
        # No seeded run lies near the window's edge, so the default 24 hours are safe to recompute here.
        expected = world.expected(seeded, datetime.now(UTC) - timedelta(hours=24))

        assert (
            samples[
                "datasphere_sync_runs", (("priority", "CRITICAL"), ("rule", "sales"), ("state", "success"))
            ]
            == 3
        )
        assert (
            samples["datasphere_sync_jobs", (("priority", "HIGH"), ("rule", "finance"), ("state", "failed"))]
            == 1
        )
        assert (
            samples[
                "datasphere_sync_job_duration_seconds",
                (("priority", "CRITICAL"), ("quantile", "0.95"), ("rule", "sales")),
            ]
            == 30
        )
        for outcome in OUTCOMES:
            key = (
                "datasphere_sync_assets",
                (("outcome", outcome), ("priority", "CRITICAL"), ("rule", "sales")),
            )
            assert samples[key] == expected["sales"]["assets"][outcome]
        assert samples["datasphere_sync_late", (("priority", "HIGH"), ("rule", "finance"))] == 1
        assert samples["datasphere_sync_late", (("priority", "CRITICAL"), ("rule", "sales"))] == 0
        assert samples["datasphere_sync_window_seconds", ()] == 86400


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+]+|[+-]Inf|NaN)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse exposition text strictly: every line is a HELP, a TYPE or a well-formed sample."""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample: {line!r}"
        labels = tuple(sorted(LABEL.findall(match.group(3) or "")))
        samples[match.group(1), labels] = float(match.group(4))
    return samples
