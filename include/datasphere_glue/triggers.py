"""The change watcher of real_time rules: fires only when the rule's assets in Datasphere changed."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

log = logging.getLogger(__name__)

FINGERPRINT_KEY = "fingerprint"
# Above this many selected assets a poll compares listings only; reading every asset each minute would
# cost more than the sync it saves. Real_time rules are meant for a few critical assets.
MAX_ASSETS_READ_PER_POLL = 200


class DatasphereChangeTrigger(BaseEventTrigger):
    """Poll a fingerprint of a rule's assets and emit an event each time it differs from the last one.

    The fingerprint covers the listing (names, types, business names, semantic usage, exposure) and, for
    up to :data:`MAX_ASSETS_READ_PER_POLL` assets, their definitions (columns, types, descriptions,
    upstream objects). The first poll after the watcher starts compares with the fingerprint the
    watcher stored on its asset, so a change made while the triggerer was down still fires once; when
    nothing was stored yet, the first poll only records the baseline.

    :param rule_name: the real_time rule whose assets are watched.
    :param datasphere_conn_id: Airflow connection to Datasphere.
    :param poll_interval: seconds between two polls.
    """

    def __init__(self, *, rule_name: str, datasphere_conn_id: str, poll_interval: float = 60.0) -> None:
        super().__init__()
        self.rule_name = rule_name
        self.datasphere_conn_id = datasphere_conn_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and arguments the triggerer rebuilds the watcher from."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "rule_name": self.rule_name,
                "datasphere_conn_id": self.datasphere_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll forever; yield an event for each change of the fingerprint."""
        previous = await self._stored_fingerprint()
        while True:
            try:
                current = await asyncio.to_thread(
                    fingerprint_rule_assets, self.rule_name, self.datasphere_conn_id
                )
            except Exception:
                # Datasphere being down is no change; the next poll tries again.
                log.warning("Could not fingerprint the assets of rule %s", self.rule_name, exc_info=True)
            else:
                if previous is not None and current != previous:
                    log.info("Assets of rule %s changed in Datasphere", self.rule_name)
                    yield TriggerEvent({"rule": self.rule_name, "fingerprint": current})
                if current != previous:
                    await self._store_fingerprint(current)
                    previous = current
            await asyncio.sleep(self.poll_interval)

    async def _stored_fingerprint(self) -> str | None:
        if self.asset_state_store is None:
            return None
        try:
            stored = await self.asset_state_store.aget(FINGERPRINT_KEY)
        except Exception:
            log.warning("Could not read the stored fingerprint of rule %s", self.rule_name, exc_info=True)
            return None
        return str(stored) if stored else None

    async def _store_fingerprint(self, fingerprint: str) -> None:
        if self.asset_state_store is None:
            return
        try:
            await self.asset_state_store.aset(FINGERPRINT_KEY, fingerprint)
        except Exception:
            log.warning("Could not store the fingerprint of rule %s", self.rule_name, exc_info=True)


def fingerprint_rule_assets(rule_name: str, datasphere_conn_id: str) -> str:
    """Hash what a sync of the rule would read from Datasphere, without touching Glue.

    :param rule_name: the rule, as the rules folder defines it now.
    :param datasphere_conn_id: Airflow connection to Datasphere.
    """
    from include.datasphere_glue.datasphere.hook import DatasphereHook
    from include.datasphere_glue.rules.model import SYNCABLE_TYPES
    from include.datasphere_glue.sync.engine import SyncEngine
    from include.datasphere_glue.tasks import load_rule

    rule = load_rule(rule_name)
    match = rule.rule.match
    types = [t for t in match.object_types if not t.is_flow] or list(SYNCABLE_TYPES)
    with DatasphereHook(datasphere_conn_id=datasphere_conn_id).get_catalog() as source:
        # The engine serves only to apply the rule's selection, which never touches Glue.
        selection = SyncEngine(source, cast(Any, None), rule)
        refs = sorted(
            (
                ref
                for space in match.spaces or sorted(source.list_spaces())
                for ref in source.list_assets(space, types).refs
                if selection.selects(ref)
            ),
            key=lambda ref: ref.key,
        )
        entries: list[Any] = [dataclasses.asdict(ref) for ref in refs]
        if len(refs) <= MAX_ASSETS_READ_PER_POLL:
            entries.extend(_definition(source, ref) for ref in refs)
    document = json.dumps(entries, sort_keys=True, default=str).encode()
    return hashlib.sha256(document).hexdigest()


def _definition(source: Any, ref: Any) -> Any:
    try:
        return dataclasses.asdict(source.read_asset(ref))
    except Exception as error:  # an unreadable asset is part of the state, not a reason to stop
        return {"asset": ref.key, "unreadable": type(error).__name__}
