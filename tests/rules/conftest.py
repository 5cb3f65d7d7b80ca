"""Rules folders written on the fly: a defaults file plus the rule files a test gives."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

DEFAULTS_YAML = """\
defaults:
  env: test
  job:
    pool: shared
    retries: 3
    retry_delay_seconds: 60
    backoff_multiplier: 2
    max_retry_delay_seconds: 1800
  priorities:
    CRITICAL:
      job:
        pool: critical
        retries: 5
        retry_delay_seconds: 10
pools:
  shared:
    slots: 4
    description: everyone
  critical:
    slots: 2
    description: CRITICAL only
"""

RuleFiles = Callable[..., Path]


def rule_yaml(name: str, **extra: str) -> str:
    """One valid rule as a YAML list item; ``extra`` adds or replaces top-level fields (raw YAML text)."""
    fields = {
        "name": name,
        "description": f"rule {name}",
        "owner": "team-a",
        "priority": "HIGH",
        "frequency": "hourly",
        **extra,
    }
    lines = [f"  - name: {fields.pop('name')}"] + [f"    {key}: {value}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def rules_folder(tmp_path: Path) -> RuleFiles:
    """Write ``_defaults.yaml`` and the given files (name → YAML text) into a fresh rules folder."""

    def write(files: dict[str, str], *, defaults: str | None = DEFAULTS_YAML) -> Path:
        folder = tmp_path / "rules"
        folder.mkdir(exist_ok=True)
        if defaults is not None:
            (folder / "_defaults.yaml").write_text(defaults, encoding="utf-8")
        for name, text in files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return folder

    return write
