"""airflow_settings.yaml creates every pool the shipped rules use, with its slots, and the connections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from include.datasphere_glue.rules.loader import load_rules

ROOT = Path(__file__).resolve().parents[2]


def settings() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "airflow_settings.yaml").read_text(encoding="utf-8"))
    return dict(document["airflow"])


def test_every_pool_the_rules_use_is_created_with_the_same_slots() -> None:
    rule_set = load_rules(ROOT / "rules", strict=True)
    created = {pool["pool_name"]: pool["pool_slot"] for pool in settings()["pools"]}
    used = {rule.job.pool for rule in rule_set.rules}
    assert used <= set(created)
    assert created == {name: spec.slots for name, spec in rule_set.pools.items()}


def test_pools_have_descriptions() -> None:
    assert all(pool.get("pool_description") for pool in settings()["pools"])


def test_connections_point_at_the_local_emulators() -> None:
    connections = {conn["conn_id"]: conn for conn in settings()["connections"]}
    datasphere = connections["datasphere_default"]
    assert datasphere["conn_type"] == "datasphere"
    assert datasphere["conn_host"].startswith("http://127.0.0.1:")
    assert datasphere["conn_extra"]["token_url"].startswith(datasphere["conn_host"])
    aws = connections["aws_default"]
    assert aws["conn_type"] == "aws"
    assert aws["conn_extra"]["endpoint_url"] == "http://127.0.0.1:5000"
    assert aws["conn_extra"]["region_name"]
