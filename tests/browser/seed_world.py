"""Seed a throwaway Airflow home with the known metrics world (run in its own process by the browser test)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path


def main(home: Path, now: datetime) -> None:
    from tests.metrics.home import point_process_at

    point_process_at(home)
    from airflow.utils.session import create_session

    from tests.metrics import world

    with create_session() as session:
        world.insert(session, world.build(now), now)


if __name__ == "__main__":
    main(Path(sys.argv[1]), datetime.fromisoformat(sys.argv[2]))
