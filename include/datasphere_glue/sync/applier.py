"""Carry out one planned table action against Glue and record its outcome in the report."""

from __future__ import annotations

import logging

from include.datasphere_glue.glue.catalog import GlueCallFailed, GlueCatalog
from include.datasphere_glue.sync.planner import ActionKind, TableAction
from include.datasphere_glue.sync.report import SyncReport

log = logging.getLogger(__name__)

_WRITES = (ActionKind.CREATE, ActionKind.UPDATE)


def apply_action(
    action: TableAction, glue: GlueCatalog, report: SyncReport, *, dry_run: bool = False
) -> None:
    """Apply one action and record its outcome; a failed write becomes a failed asset, never an exception.

    :param action: what the planner decided for one table.
    :param glue: where to write.
    :param report: receives the outcome.
    :param dry_run: record the action line instead of writing.
    """
    if action.kind is ActionKind.UNCHANGED:
        report.count("unchanged")
    elif action.kind is ActionKind.SKIP:
        report.skip(action.asset_key, action.reason)
    elif action.kind is ActionKind.FAIL:
        report.fail(action.asset_key, action.reason)
    elif dry_run:
        report.act(action.describe())
        _record_written(action, report)
    else:
        _write(action, glue, report)


def _write(action: TableAction, glue: GlueCatalog, report: SyncReport) -> None:
    assert action.table_input is not None, "create and update actions carry a table input"
    try:
        if action.kind is ActionKind.CREATE:
            glue.create_table(action.database, action.table_input)
        else:
            glue.update_table(action.database, action.table_input, version_id=action.version_id)
    except GlueCallFailed as error:
        log.warning("Could not %s %s.%s: %s", action.kind.value, action.database, action.name, error)
        report.fail(action.asset_key, f"{action.kind.value} {action.database}.{action.name}: {error}")
        return
    except Exception as error:  # one asset's surprise must not cost the rest of the batch
        log.exception("Unexpected error writing %s.%s", action.database, action.name)
        report.fail(action.asset_key, f"{action.kind.value} {action.database}.{action.name}: {error!r}")
        return
    _record_written(action, report)


def _record_written(action: TableAction, report: SyncReport) -> None:
    report.count("created" if action.kind is ActionKind.CREATE else "updated")
    if action.conflict:
        report.conflict(
            action.asset_key,
            f"{action.database}.{action.name} was changed outside the sync ({action.conflict}); "
            "put back from the source",
        )
