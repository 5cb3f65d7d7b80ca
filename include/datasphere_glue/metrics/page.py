"""The sync metrics page: server-rendered HTML with inline SVG charts (no scripts, no CDN)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urlencode

from include.datasphere_glue.metrics.queries import OUTCOMES, PRIORITIES

STATE_COLOURS = {
    "success": "#2e9d5b",
    "failed": "#d64545",
    "running": "#3b82c4",
    "queued": "#9a7fd1",
    "scheduled": "#c2a23a",
    "up_for_retry": "#e08a2c",
    "deferred": "#6b7a8f",
}
OUTCOME_COLOURS = {
    "created": "#2e9d5b",
    "updated": "#3b82c4",
    "unchanged": "#9aa5b1",
    "deleted": "#8e5bbf",
    "skipped": "#c2a23a",
    "failed": "#d64545",
}
WINDOW_CHOICES = (("6 h", 6), ("24 h", 24), ("3 d", 72), ("7 d", 168))

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:16px;color:#1f2933;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #e4e7eb}
.muted{color:#616e7c;font-size:12px} nav a{margin-right:10px}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.tile{border:1px solid #e4e7eb;border-radius:6px;padding:8px 12px;min-width:120px}
.tile .v{font-size:22px;font-weight:600} .tile .k{font-size:12px;color:#616e7c}
.tile.bad .v{color:#d64545}
.charts{display:flex;flex-wrap:wrap;gap:18px}
figure{margin:0;max-width:430px} figcaption{font-size:13px;font-weight:600;margin-bottom:4px}
table{border-collapse:collapse;font-size:13px;margin-bottom:8px} th,td{padding:3px 8px;text-align:right}
th{background:#f5f7fa;font-weight:600} td.l,th.l{text-align:left} tr{border-bottom:1px solid #eef0f2}
.badge{padding:1px 6px;border-radius:8px;font-size:12px;color:#fff}
.ok{background:#2e9d5b}.late,.never{background:#d64545}.paused,.unscheduled{background:#9aa5b1}
.legend span{display:inline-block;margin-right:10px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:3px;vertical-align:middle}
.err{color:#b42318;text-align:left;max-width:560px;white-space:normal}
"""


def render(
    *,
    summary: dict[str, Any],
    rules: dict[str, Any],
    queue: dict[str, Any],
    failures: dict[str, Any],
    filters: dict[str, Any],
    now: datetime,
) -> str:
    """Render the whole page from the same documents the JSON API returns.

    :param filters: the request's ``window_hours``, ``rule`` and ``priority`` values, kept in links.
    """
    totals = summary["totals"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Datasphere sync metrics</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Datasphere → Glue sync</h1>",
        f"<div class='muted'>Runs due between {escape(summary['window']['since'][:16])} and "
        f"{escape(summary['window']['until'][:16])} UTC · {summary['rules']} rules · "
        f"rendered {escape(now.isoformat()[:19])} UTC · <a href='api/v1/summary'>JSON</a> · "
        "<a href='metrics'>Prometheus</a></div>",
        _window_nav(filters),
        _tiles(totals, rules, queue, failures),
        "<h2>Over time</h2><div class='charts'>",
        _series_chart("Runs per bucket", summary["series"]["runs"], summary["series"]),
        _series_chart("Jobs per bucket", summary["series"]["jobs"], summary["series"]),
        _assets_chart(summary["series"]),
        "</div>",
        "<h2>By priority</h2>",
        _priority_section(summary["priorities"], filters),
        "<h2>Freshness</h2>",
        _freshness_table(rules["rules"], filters),
        "<h2>Rules</h2>",
        _rules_table(rules["rules"], filters),
        "<h2>Queue now</h2>",
        _queue_section(queue),
        "<h2>Recent failures</h2>",
        _failures_table(failures["failures"]),
        "</body></html>",
    ]
    return "\n".join(parts)


def _window_nav(filters: dict[str, Any]) -> str:
    links = []
    for label, hours in WINDOW_CHOICES:
        query = urlencode(
            [("window_hours", hours)]
            + [("rule", rule) for rule in filters.get("rule", [])]
            + [("priority", priority) for priority in filters.get("priority", [])],
        )
        chosen = filters.get("window_hours") or 24
        current = " style='font-weight:600'" if abs(float(chosen) - hours) < 1e-9 else ""
        links.append(f"<a href='?{escape(query)}'{current}>{label}</a>")
    narrowed = [*filters.get("rule", []), *filters.get("priority", [])]
    showing = ""
    if narrowed:
        show_all = _filter_link("show all rules", filters)
        showing = f" · showing {escape(', '.join(narrowed))} only · {show_all}"
    return f"<nav class='muted'>Window: {''.join(links)}{showing}</nav>"


def _filter_link(text: str, filters: dict[str, Any], **narrow: str) -> str:
    """Link to this page narrowed to one rule or priority (or to none), keeping the window."""
    query: list[tuple[str, Any]] = []
    if filters.get("window_hours"):
        query.append(("window_hours", filters["window_hours"]))
    query += list(narrow.items())
    return f"<a href='?{escape(urlencode(query))}'>{escape(text)}</a>"


def _tiles(
    totals: dict[str, Any], rules: dict[str, Any], queue: dict[str, Any], failures: dict[str, Any]
) -> str:
    p50, p95 = totals["job_duration_seconds"]["p50"], totals["job_duration_seconds"]["p95"]
    tiles = [
        ("runs", "runs", sum(totals["runs"].values()), False),
        ("success-rate", "run success rate", _percent(totals["success_rate"]), False),
        ("jobs", "jobs", sum(totals["jobs"].values()), False),
        ("job-p50", "job p50", _seconds(p50), False),
        ("job-p95", "job p95", _seconds(p95), False),
        ("assets-synced", "assets synced", totals["assets_synced"], False),
        ("assets-per-minute", "assets / min", _rate(totals["assets_per_minute"]), False),
        ("assets-failed", "assets failed", totals["assets"]["failed"], totals["assets"]["failed"] > 0),
        ("late-rules", "late rules", rules["late"], rules["late"] > 0),
        ("waiting-jobs", "jobs waiting", queue["totals"]["waiting"], False),
        ("running-jobs", "jobs running", queue["totals"]["running"], False),
        ("failures", "failed jobs shown", len(failures["failures"]), bool(failures["failures"])),
    ]
    cells = "".join(
        f"<div class='tile{' bad' if bad else ''}'>"
        f"<div class='v' data-figure='{key}'>{escape(str(value))}</div>"
        f"<div class='k'>{label}</div></div>"
        for key, label, value, bad in tiles
    )
    return f"<div class='tiles'>{cells}</div>"


def _series_chart(title: str, lanes: dict[str, dict[str, list[int]]], series: dict[str, Any]) -> str:
    """Stacked bars per bucket, one colour per state, all priorities added up."""
    buckets = len(series["bucket_starts"])
    by_state: dict[str, list[int]] = {}
    for states in lanes.values():
        for state, counts in states.items():
            lane = by_state.setdefault(state, [0] * buckets)
            for index, count in enumerate(counts):
                lane[index] += count
    order = [state for state in STATE_COLOURS if state in by_state] + sorted(
        set(by_state) - set(STATE_COLOURS)
    )
    return _stacked_bars(
        title,
        [(state, by_state[state], STATE_COLOURS.get(state, "#52606d")) for state in order],
        series["bucket_starts"],
    )


def _assets_chart(series: dict[str, Any]) -> str:
    buckets = len(series["bucket_starts"])
    total = [0] * buckets
    for counts in series["assets_synced"].values():
        for index, count in enumerate(counts):
            total[index] += count
    minutes = series["bucket_seconds"] / 60
    title = f"Assets synced per bucket ({minutes:.0f} min each)"
    return _stacked_bars(title, [("synced", total, "#3b82c4")], series["bucket_starts"])


def _stacked_bars(title: str, lanes: list[tuple[str, list[int], str]], starts: list[str]) -> str:
    width, height, left, bottom = 420, 150, 34, 18
    buckets = max(len(starts), 1)
    peak = max([sum(lane[1][index] for lane in lanes) for index in range(len(starts))] + [1])
    step = (width - left) / buckets
    bars = []
    for index in range(len(starts)):
        base = 0
        for name, counts, colour in lanes:
            count = counts[index]
            if not count:
                continue
            top = base + count
            y = height - bottom - (height - bottom - 6) * top / peak
            bar_height = (height - bottom - 6) * count / peak
            bars.append(
                f"<rect x='{left + index * step + 1:.1f}' y='{y:.1f}' width='{max(step - 2, 1):.1f}' "
                f"height='{bar_height:.1f}' fill='{colour}'><title>{escape(starts[index][:16])} {name}: "
                f"{count}</title></rect>"
            )
            base = top
    axis = (
        f"<text x='{left - 4}' y='12' text-anchor='end' font-size='10'>{peak}</text>"
        f"<text x='{left - 4}' y='{height - bottom}' text-anchor='end' font-size='10'>0</text>"
        f"<line x1='{left}' y1='{height - bottom}' x2='{width}' y2='{height - bottom}' stroke='#cbd2d9'/>"
    )
    if starts:
        axis += (
            f"<text x='{left}' y='{height - 4}' font-size='10'>{escape(starts[0][5:16])}</text>"
            f"<text x='{width}' y='{height - 4}' font-size='10' text-anchor='end'>"
            f"{escape(starts[-1][5:16])}</text>"
        )
    legend = "".join(
        f"<span><i style='background:{colour}'></i>{escape(name)}</span>" for name, _, colour in lanes
    )
    return (
        f"<figure><figcaption>{escape(title)}</figcaption><svg width='{width}' height='{height}' "
        f"role='img' aria-label='{escape(title)}'>{axis}{''.join(bars)}</svg>"
        f"<div class='legend'>{legend}</div></figure>"
    )


def _priority_section(priorities: dict[str, Any], filters: dict[str, Any]) -> str:
    rows = []
    bars = []
    peak = max([sum(figures["assets"].values()) for figures in priorities.values()] + [1])
    for priority, figures in priorities.items():
        rows.append(
            f"<tr data-priority='{escape(priority)}'><td class='l'>"
            f"{_filter_link(priority, filters, priority=priority)}</td>"
            f"<td>{sum(figures['runs'].values())}</td><td>{_percent(figures['success_rate'])}</td>"
            f"<td>{sum(figures['jobs'].values())}</td>"
            f"<td>{_seconds(figures['job_duration_seconds']['p50'])}</td>"
            f"<td>{_seconds(figures['job_duration_seconds']['p95'])}</td>"
            + "".join(f"<td>{figures['assets'][outcome]}</td>" for outcome in OUTCOMES)
            + f"<td>{_rate(figures['assets_per_minute'])}</td></tr>"
        )
        bars.append(_outcome_bar(priority, figures["assets"], peak, figures["success_rate"]))
    header = (
        "<tr><th class='l'>priority</th><th>runs</th><th>success</th><th>jobs</th><th>job p50</th>"
        "<th>job p95</th>"
        + "".join(f"<th>{outcome}</th>" for outcome in OUTCOMES)
        + "<th>assets/min</th></tr>"
    )
    legend = "".join(f"<span><i style='background:{c}'></i>{o}</span>" for o, c in OUTCOME_COLOURS.items())
    chart = (
        f"<figure><figcaption>Assets by outcome and run success rate</figcaption>{''.join(bars)}"
        f"<div class='legend'>{legend}</div></figure>"
    )
    if not priorities:
        return "<p class='muted'>No runs in the window.</p>"
    return f"<table id='priorities'>{header}{''.join(rows)}</table>{chart}"


def _outcome_bar(priority: str, assets: dict[str, int], peak: int, success_rate: float | None) -> str:
    width, height, label = 460, 18, 110
    x = float(label)
    parts = [f"<text x='0' y='13' font-size='12'>{escape(priority)}</text>"]
    for outcome in OUTCOMES:
        count = assets[outcome]
        if count:
            span = (width - label - 60) * count / peak
            parts.append(
                f"<rect x='{x:.1f}' y='2' width='{span:.1f}' height='14' fill='{OUTCOME_COLOURS[outcome]}'>"
                f"<title>{outcome}: {count}</title></rect>"
            )
            x += span
    parts.append(
        f"<text x='{width - 2}' y='13' font-size='12' text-anchor='end'>{_percent(success_rate)}</text>"
    )
    return f"<svg width='{width}' height='{height}' role='img'>{''.join(parts)}</svg><br>"


def _freshness_table(entries: list[dict[str, Any]], filters: dict[str, Any]) -> str:
    if not entries:
        return "<p class='muted'>No sync rules visible to you.</p>"
    ordered = sorted(
        entries, key=lambda e: (not e["freshness"]["late"], PRIORITY_ORDER.get(e["priority"], 9), e["rule"])
    )
    rows = "".join(
        f"<tr data-rule='{escape(entry['rule'])}'><td class='l'>"
        f"{_filter_link(entry['rule'], filters, rule=entry['rule'])}</td>"
        f"<td class='l'>{escape(entry['priority'])}</td><td class='l'>{escape(entry['frequency'])}</td>"
        f"<td>{_age(entry['freshness']['age_seconds'])}</td>"
        f"<td>{_age(entry['freshness']['promise_seconds'])}</td>"
        f"<td class='l'>{escape(entry['freshness']['last_run_state'] or '-')}</td>"
        f"<td class='l'><span class='badge {entry['freshness']['status']}' data-figure='freshness'>"
        f"{entry['freshness']['status']}</span></td></tr>"
        for entry in ordered
    )
    return (
        "<table id='freshness'><tr><th class='l'>rule</th><th class='l'>priority</th>"
        "<th class='l'>frequency</th>"
        "<th>since last success</th><th>allowed</th><th class='l'>last run</th><th class='l'>status</th></tr>"
        f"{rows}</table>"
    )


PRIORITY_ORDER = {priority: index for index, priority in enumerate(PRIORITIES)}


def _rules_table(entries: list[dict[str, Any]], filters: dict[str, Any]) -> str:
    if not entries:
        return ""
    rows = []
    for entry in sorted(entries, key=lambda e: (PRIORITY_ORDER.get(e["priority"], 9), e["rule"])):
        cells = [
            sum(entry["runs"].values()),
            _percent(entry["success_rate"]),
            sum(entry["jobs"].values()),
            _seconds(entry["job_duration_seconds"]["p50"]),
            _seconds(entry["job_duration_seconds"]["p95"]),
            *(entry["assets"][outcome] for outcome in OUTCOMES),
            _rate(entry["assets_per_minute"]),
        ]
        rows.append(
            f"<tr data-rule='{escape(entry['rule'])}'><td class='l'>"
            f"{_filter_link(entry['rule'], filters, rule=entry['rule'])}</td>"
            f"<td class='l'>{escape(entry['priority'])}</td>"
            + "".join(f"<td>{escape(str(cell))}</td>" for cell in cells)
            + "</tr>"
        )
    header = (
        "<tr><th class='l'>rule</th><th class='l'>priority</th><th>runs</th><th>success</th><th>jobs</th>"
        "<th>job p50</th><th>job p95</th>"
        + "".join(f"<th>{outcome}</th>" for outcome in OUTCOMES)
        + "<th>assets/min</th></tr>"
    )
    return f"<table id='rules'>{header}{''.join(rows)}</table>"


def _queue_section(queue: dict[str, Any]) -> str:
    states = ("scheduled", "queued", "running", "deferred", "up_for_retry", "waiting")

    def table(table_id: str, title: str, lanes: dict[str, dict[str, int]]) -> str:
        if not lanes:
            return f"<p class='muted' id='{table_id}'>No {title} jobs waiting or running.</p>"
        header = f"<tr><th class='l'>{title}</th>" + "".join(f"<th>{s}</th>" for s in states) + "</tr>"
        rows = "".join(
            f"<tr data-{title}='{escape(name)}'><td class='l'>{escape(name)}</td>"
            + "".join(f"<td data-state='{s}'>{lane.get(s, 0)}</td>" for s in states)
            + "</tr>"
            for name, lane in lanes.items()
        )
        return f"<table id='{table_id}'>{header}{rows}</table>"

    parts = [
        table("queue-priority", "priority", queue["by_priority"]),
        table("queue-pool", "pool", queue["by_pool"]),
    ]
    if queue["pools"] is None:
        parts.append("<p class='muted'>Pool occupancy needs permission to read pools.</p>")
    else:
        parts.append(_pool_bars(queue["pools"]))
    return "".join(parts)


def _pool_bars(pools: dict[str, dict[str, Any]]) -> str:
    rows = []
    for name, slots in pools.items():
        total = slots["total"]
        share = min(slots["used"] / total, 1.0) if total else 0.0
        colour = "#d64545" if total and slots["used"] >= total else "#3b82c4"
        bar = (
            f"<svg width='200' height='14' role='img'><rect width='200' height='14' fill='#eef0f2'/>"
            f"<rect width='{200 * share:.1f}' height='14' fill='{colour}'/></svg>"
        )
        rows.append(
            f"<tr data-pool='{escape(name)}'><td class='l'>{escape(name)}</td><td>{bar}</td>"
            f"<td data-slot='used'>{slots['used']}</td><td data-slot='open'>{_slots(slots['open'])}</td>"
            f"<td data-slot='total'>{_slots(total)}</td>"
            f"<td data-slot='scheduled'>{slots['scheduled']}</td></tr>"
        )
    return (
        "<table id='pools'><tr><th class='l'>pool</th><th class='l'>occupancy</th><th>used</th><th>open</th>"
        f"<th>total</th><th>scheduled</th></tr>{''.join(rows)}</table>"
    )


def _failures_table(failures: list[dict[str, Any]]) -> str:
    if not failures:
        return "<p class='muted' id='failures'>No failed jobs in the window.</p>"
    rows = "".join(
        f"<tr data-rule='{escape(failure['rule'])}'>"
        f"<td class='l'>{escape((failure['ended'] or '')[:19])}</td>"
        f"<td class='l'>{escape(failure['rule'])}</td>"
        f"<td class='l'>{escape(failure['task_id'])}{_map_label(failure)}</td>"
        f"<td>{failure['try_number']}</td><td class='l'>{escape(failure['state'])}</td>"
        f"<td class='err'>{'<br>'.join(escape(line) for line in failure['errors'])}</td>"
        f"<td class='l'><a target='_top' href='{escape(failure['log_url'])}'>log</a></td></tr>"
        for failure in failures
    )
    return (
        "<table id='failures'><tr><th class='l'>ended</th><th class='l'>rule</th><th class='l'>job</th>"
        f"<th>try</th><th class='l'>state</th><th class='l'>error</th><th class='l'></th></tr>{rows}</table>"
    )


def _map_label(failure: dict[str, Any]) -> str:
    if failure["map_index"] < 0:
        return ""
    return f" [{escape(failure['label'] or str(failure['map_index']))}]"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _slots(value: int | None) -> str:
    return "∞" if value is None else str(value)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
