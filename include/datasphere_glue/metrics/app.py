"""The plugin's FastAPI app: versioned JSON API, Prometheus text and the page, all behind Airflow's login."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from airflow.configuration import conf
from fastapi import Depends, FastAPI, Query
from fastapi.responses import HTMLResponse, Response

from include.datasphere_glue.metrics import page, payloads, prometheus, queries
from include.datasphere_glue.metrics.queries import RuleInfo, Window

log = logging.getLogger(__name__)

URL_PREFIX = "/datasphere-sync"
MAX_WINDOW_HOURS = queries.MAX_WINDOW.total_seconds() / 3600
MAX_FAILURES = 500


@dataclass(frozen=True)
class Scope:
    """What one request may see: the readable sync rules after filters, and the window."""

    rules: list[RuleInfo]
    window: Window
    now: datetime
    may_read_pools: bool
    filters: dict[str, Any]


def _scope(
    user: GetUserDep,
    session: SessionDep,
    window_hours: Annotated[
        float | None,
        Query(
            gt=0,
            le=MAX_WINDOW_HOURS,
            description="Length of the window of runs counted, in hours (default 24).",
        ),
    ] = None,
    rule: Annotated[list[str] | None, Query(description="Rule names to keep (repeatable).")] = None,
    priority: Annotated[list[str] | None, Query(description="Priorities to keep (repeatable).")] = None,
) -> Scope:
    """Resolve the user's readable sync rules through Airflow's auth manager, then apply the filters."""
    auth_manager = get_auth_manager()
    readable = auth_manager.get_authorized_dag_ids(user=user, method="GET", session=session)
    now = datetime.now(UTC)
    rules = queries.visible_rules(
        session, readable, rules=set(rule or ()), priorities={p.upper() for p in priority or ()}
    )
    log.debug(
        "Sync metrics for %s: %d of %d readable DAGs are sync rules",
        user.get_name(),
        len(rules),
        len(readable),
    )
    return Scope(
        rules=rules,
        window=queries.make_window(now, window_hours),
        now=now,
        may_read_pools=auth_manager.is_authorized_pool(method="GET", user=user),
        filters={"window_hours": window_hours, "rule": rule or [], "priority": priority or []},
    )


ScopeDep = Annotated[Scope, Depends(_scope)]


def create_app() -> FastAPI:
    """Build the app the plugin mounts at ``URL_PREFIX``."""
    app = FastAPI(
        title="Datasphere sync metrics",
        description="Sync figures from Airflow's metadata database and the runs' sync reports.",
        version=payloads.API_VERSION,
        docs_url=None,
        redoc_url=None,
        openapi_url=f"/api/{payloads.API_VERSION}/openapi.json",
    )
    app.add_api_route("/", _page, methods=["GET"], response_class=HTMLResponse, summary="The metrics page")
    app.add_api_route("/metrics", _metrics, methods=["GET"], summary="Prometheus text (format 0.0.4)")
    api = f"/api/{payloads.API_VERSION}"
    app.add_api_route(f"{api}/summary", _summary, methods=["GET"], summary="Totals, priorities, time series")
    app.add_api_route(f"{api}/rules", _rules, methods=["GET"], summary="Per-rule figures and freshness")
    app.add_api_route(f"{api}/queue", _queue, methods=["GET"], summary="Waiting and running jobs, pools")
    app.add_api_route(f"{api}/failures", _failures, methods=["GET"], summary="Recent failed jobs")
    return app


def _summary(scope: ScopeDep, session: SessionDep) -> dict[str, Any]:
    snapshot = payloads.Snapshot(session, scope.rules, scope.window, levels=("priority", "all"))
    return payloads.summary(snapshot)


def _rules(scope: ScopeDep, session: SessionDep) -> dict[str, Any]:
    snapshot = payloads.Snapshot(session, scope.rules, scope.window, levels=("rule",))
    return payloads.rules_report(snapshot, now=scope.now)


def _queue(scope: ScopeDep, session: SessionDep) -> dict[str, Any]:
    return payloads.queue_report(session, scope.rules, include_pools=scope.may_read_pools)


def _failures(
    scope: ScopeDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_FAILURES, description="Most failures returned.")] = 50,
) -> dict[str, Any]:
    return payloads.failures_report(session, scope.rules, scope.window, limit=limit, ui_base=_ui_base())


def _metrics(scope: ScopeDep, session: SessionDep) -> Response:
    snapshot = payloads.Snapshot(session, scope.rules, scope.window)
    text = prometheus.render(
        payloads.summary(snapshot),
        payloads.rules_report(snapshot, now=scope.now),
        payloads.queue_report(session, scope.rules, include_pools=scope.may_read_pools),
    )
    return Response(content=text, media_type=prometheus.CONTENT_TYPE)


def _page(scope: ScopeDep, session: SessionDep) -> HTMLResponse:
    snapshot = payloads.Snapshot(session, scope.rules, scope.window)
    html = page.render(
        summary=payloads.summary(snapshot),
        rules=payloads.rules_report(snapshot, now=scope.now),
        queue=payloads.queue_report(session, scope.rules, include_pools=scope.may_read_pools),
        failures=payloads.failures_report(session, scope.rules, scope.window, limit=20, ui_base=_ui_base()),
        filters=scope.filters,
        now=scope.now,
    )
    return HTMLResponse(html)


def _ui_base() -> str:
    """Path of the Airflow UI root, so log links work behind a path prefix too."""
    return urlsplit(conf.get("api", "base_url", fallback="/") or "/").path.rstrip("/")
