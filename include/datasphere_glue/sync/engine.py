"""The sync engine: discover a rule's assets, sync them in batches by stage, then lineage and deletions."""

from __future__ import annotations

import fnmatch
import logging
import queue
import string
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NotRequired, Protocol, TypedDict

from include.datasphere_glue.datasphere.errors import DatasphereAuthError, DatasphereConfigError
from include.datasphere_glue.glue.catalog import GlueCallFailed, GlueCatalog
from include.datasphere_glue.glue.naming import database_name, table_name
from include.datasphere_glue.glue.tables import (
    BUSINESS_NAME_KEY,
    LINEAGE_KEY,
    MANAGED_KEY,
    OBJECT_TYPE_KEY,
    RULE_KEY,
    SEMANTIC_USAGE_KEY,
    SPACE_KEY,
    TECHNICAL_NAME_KEY,
    DesiredTable,
    build_desired_table,
    table_input_from,
)
from include.datasphere_glue.glue.types import validate_overrides
from include.datasphere_glue.model import AssetRef, FlowLineage, ObjectType, SourceAsset
from include.datasphere_glue.rules.model import SYNCABLE_TYPES, DeletionMode, ResolvedRule
from include.datasphere_glue.sync.applier import apply_action
from include.datasphere_glue.sync.planner import (
    TableAction,
    TableState,
    find_collisions,
    is_owned,
    plan_table,
)
from include.datasphere_glue.sync.report import SyncReport

log = logging.getLogger(__name__)

LABEL_NAMES = 2
GLUE_READERS = 2  # databases read at once; each read is one paginated GetTables
IN_FLIGHT_PER_WORKER = 4  # assets queued per worker: keeps workers busy, memory flat


class AssetListing(Protocol):
    """One space's listing, as the Datasphere side returns it."""

    @property
    def refs(self) -> list[AssetRef]: ...
    @property
    def complete(self) -> bool: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def skipped(self) -> bool: ...


class DatasphereSource(Protocol):
    """What the engine reads from Datasphere (``DatasphereCatalog`` in production)."""

    @property
    def calls(self) -> Counter[str]: ...
    def list_spaces(self) -> list[str]: ...
    def list_assets(self, space: str, object_types: Collection[ObjectType]) -> AssetListing: ...
    def read_asset(self, ref: AssetRef) -> SourceAsset: ...
    def read_flow(self, ref: AssetRef) -> FlowLineage: ...


LISTING_FAILED = (
    "space {space} could not be listed completely: its assets were not all synced and nothing in it "
    "was deleted; the next run tries again"
)


class Batch(TypedDict):
    """One sync job's share of a run: assets of one space and one stage (JSON-serialisable, an XCom).

    ``collisions`` names the assets of the batch that share a Glue name with another asset of the
    run; the job reports them as failed and writes neither.
    """

    space: str
    stage: int
    names: list[str]
    label: str
    collisions: NotRequired[dict[str, str]]


@dataclass
class Discovery:
    """What a run will sync: batches in stage order, and whether every space could be listed."""

    batches: list[Batch]
    complete: bool
    warnings: list[str] = field(default_factory=list)
    selected: int = 0
    flows: int = 0
    # Spaces whose listing failed (not those skipped on purpose): the run must end failed.
    failed_spaces: list[str] = field(default_factory=list)


@dataclass
class _Space:
    """A space's listing, cached for the life of the engine (one run, or one job)."""

    refs: dict[str, AssetRef]
    complete: bool
    warnings: list[str]
    skipped: bool = False

    @property
    def failed(self) -> bool:
        """The listing broke off: unlike a skipped space, this is a fault the run must report."""
        return not self.complete and not self.skipped


class SyncEngine:
    """Keep the Glue tables of one rule in step with the Datasphere assets it selects.

    :param source: the Datasphere catalog to read from.
    :param glue: the Glue catalog to write to.
    :param rule: the rule, with its defaults applied.
    :param max_workers: concurrent Datasphere and Glue calls; the rule's ``job.max_parallel_requests``
        when omitted.
    :raises TypeOverrideError: when one of the rule's type overrides is not a Hive type.
    """

    def __init__(
        self,
        source: DatasphereSource,
        glue: GlueCatalog,
        rule: ResolvedRule,
        *,
        max_workers: int | None = None,
    ) -> None:
        self.source = source
        self.glue = glue
        self.rule = rule
        self.max_workers = max_workers or rule.job.max_parallel_requests
        self._overrides = validate_overrides(rule)
        match = rule.rule.match
        self._types = tuple(match.object_types) or SYNCABLE_TYPES
        self._table_types = frozenset(t for t in self._types if not t.is_flow)
        self._flow_types = frozenset(t for t in self._types if t.is_flow)
        self._spaces: dict[str, _Space] = {}
        self._space_names: list[str] | None = None
        self._tables: dict[str, dict[str, TableState]] = {}
        self._missing_databases: set[str] = set()  # seen missing by discover; created by the first job
        # A template without {space} puts several spaces into one database.
        self._database_per_space = "space" in {
            name for _, name, _, _ in string.Formatter().parse(rule.target.database_template) if name
        }

    # --- public steps ------------------------------------------------------------------------------

    def discover(self, *, only: Collection[str] | None = None, order_by_upstream: bool = True) -> Discovery:
        """List the rule's spaces and cut the selected assets into batches, in stage order.

        :param only: technical names to limit the run to; None syncs every selected asset.
        :param order_by_upstream: put assets after the same-stage assets they read (costs one
            ``GetTables`` per database); pointless when a stage's batches run together, as in
            :meth:`sync_all`.
        """
        started = time.monotonic()
        spaces = self._list_spaces()
        selected = [ref for space in spaces for ref in self._space(space).refs.values() if self.selects(ref)]
        tables = [ref for ref in selected if not ref.object_type.is_flow]
        collisions = find_collisions(
            {
                ref.key: (database_name(self.rule, ref.space), table_name(self.rule, ref.technical_name))
                for ref in tables
            }
        )
        warnings = [w for space in spaces for w in self._space(space).warnings]
        if only is not None:
            wanted = set(only)
            tables = [ref for ref in tables if ref.technical_name in wanted]
            missing = wanted - {ref.technical_name for ref in tables}
            if missing:
                warnings.append(f"not selected by rule '{self.rule.name}': {', '.join(sorted(missing))}")
        batches = self._batches(tables, collisions, order_by_upstream=order_by_upstream)
        discovery = Discovery(
            batches=batches,
            complete=all(self._space(space).complete for space in spaces),
            warnings=warnings,
            selected=len(tables),
            flows=sum(1 for ref in selected if ref.object_type.is_flow),
            failed_spaces=[space for space in spaces if self._space(space).failed],
        )
        log.info(
            "Rule %s: %d assets in %d batches from %d spaces, %d flows (%s) in %.2fs",
            self.rule.name,
            discovery.selected,
            len(batches),
            len(spaces),
            discovery.flows,
            "complete" if discovery.complete else "INCOMPLETE listing",
            time.monotonic() - started,
        )
        return discovery

    def sync_batch(self, batch: Batch, *, dry_run: bool = False, full_refresh: bool = False) -> SyncReport:
        """Read, map, plan and write one batch; a failing asset is reported and the rest go on.

        :param batch: one entry of :attr:`Discovery.batches`.
        :param dry_run: plan and report without writing.
        :param full_refresh: rewrite tables whose fingerprint says nothing changed.
        """
        return self._sync_batches([batch], dry_run=dry_run, full_refresh=full_refresh)

    def finalize(self, *, dry_run: bool = False, only: Collection[str] | None = None) -> SyncReport:
        """Write the flows' lineage onto their target tables, then delete owned tables whose asset vanished.

        Deletion happens only with ``deletion.mode: delete_vanished``, only after every space was listed
        completely, only within the rule's scope, and never beyond the rule's fail-safe percentage.

        :param dry_run: report what would change without writing.
        :param only: when the run was limited to some assets, deletions are left for a full run.
        """
        report = SyncReport(rule=self.rule.name, dry_run=dry_run)
        with self._measured(report, "finalize"):
            spaces = self._list_spaces()
            self._tables.clear()  # the jobs of this run wrote tables: plan lineage and deletes on fresh reads
            if self._flow_types:
                with self._timed(report, "lineage"):
                    self._apply_lineage(spaces, report, dry_run=dry_run)
            if self.rule.rule.deletion.mode is DeletionMode.DELETE_VANISHED:
                with self._timed(report, "delete"):
                    self._delete_vanished(spaces, report, dry_run=dry_run, only=only)
        return report

    def sync_all(
        self, *, dry_run: bool = False, full_refresh: bool = False, only: Collection[str] | None = None
    ) -> SyncReport:
        """Run a whole sync in this process: discover, each stage in order, then finalize.

        :param dry_run: report what would change without writing.
        :param full_refresh: rewrite tables whose fingerprint says nothing changed.
        :param only: technical names to limit the run to.
        """
        started = time.monotonic()
        reports = []
        discover_report = SyncReport(rule=self.rule.name, dry_run=dry_run)
        with self._measured(discover_report, "discover"):
            discovery = self.discover(only=only, order_by_upstream=False)
        discover_report.warnings.extend(discovery.warnings)
        record_failed_listings(discover_report, discovery.failed_spaces)
        reports.append(discover_report)
        for stage in sorted({batch["stage"] for batch in discovery.batches}):
            stage_batches = [batch for batch in discovery.batches if batch["stage"] == stage]
            stage_report = self._sync_batches(stage_batches, dry_run=dry_run, full_refresh=full_refresh)
            stage_report.durations[f"stage_{stage}"] = stage_report.durations.pop("sync")
            reports.append(stage_report)
        reports.append(self.finalize(dry_run=dry_run, only=only))
        report = SyncReport.merge(reports)
        report.duration_seconds = round(time.monotonic() - started, 3)
        return report

    def selects(self, ref: AssetRef) -> bool:
        """Whether the rule selects an asset, judged from its listing entry.

        Listings often carry no business name or semantic usage (the repository lists technical names
        only); such an asset is kept here and judged again once read (see :meth:`_read_and_map`).
        """
        match = self.rule.rule.match
        if ref.object_type not in self._types:
            return False
        if not self.matches_patterns(
            ref.technical_name, ref.business_name, ref.semantic_usage, unknown_passes=True
        ):
            return False
        return not (match.exposed_for_consumption_only and not ref.metadata_url)

    def matches_patterns(
        self,
        technical_name: str,
        business_name: str | None,
        usage: str | None,
        *,
        unknown_passes: bool = False,
    ) -> bool:
        """Apply the rule's name, business-name and semantic-usage conditions (case-insensitive).

        :param unknown_passes: let a business name or usage that is None (not known yet) pass.
        """
        match = self.rule.rule.match
        if not _any_match(technical_name, match.include) or _any_match(technical_name, match.exclude):
            return False
        return _condition_holds(business_name, match.business_name, unknown_passes) and _condition_holds(
            usage, match.semantic_usage, unknown_passes
        )

    # --- listing -----------------------------------------------------------------------------------

    def _list_spaces(self) -> list[str]:
        if self._space_names is None:
            names = self.rule.rule.match.spaces or sorted(self.source.list_spaces())
            with ThreadPoolExecutor(max_workers=self._workers(len(names))) as pool:
                listings = dict(zip(names, pool.map(self._read_listing, names), strict=True))
            self._spaces.update(listings)
            self._space_names = list(names)
        return self._space_names

    def _space(self, space: str) -> _Space:
        if space not in self._spaces:
            self._spaces[space] = self._read_listing(space)
        return self._spaces[space]

    def _read_listing(self, space: str) -> _Space:
        try:
            listing = self.source.list_assets(space, self._types)
        except (DatasphereAuthError, DatasphereConfigError):
            raise
        except Exception as error:  # a space that cannot be listed is incomplete, never empty
            warning = f"space {space} could not be listed: {error}"
            log.warning("%s", warning)
            return _Space(refs={}, complete=False, warnings=[warning])
        refs = {ref.technical_name: ref for ref in listing.refs}
        return _Space(
            refs=refs,
            complete=listing.complete,
            warnings=list(listing.warnings),
            skipped=listing.skipped,
        )

    def _batches(
        self, refs: Sequence[AssetRef], collisions: Mapping[str, str], *, order_by_upstream: bool
    ) -> list[Batch]:
        by_group: dict[tuple[int, str], list[AssetRef]] = defaultdict(list)
        for ref in refs:
            by_group[ref.object_type.sync_stage, ref.space].append(ref)
        batches = []
        size = self.rule.job.batch_size
        for (stage, space), group in sorted(by_group.items()):
            names = sorted(ref.technical_name for ref in group)
            if order_by_upstream and stage > 0 and len(names) > 1:
                depths = self._upstream_depths(space, names)
                names.sort(key=lambda name: (depths.get(name, 0), name))
            for start in range(0, len(names), size):
                chunk = names[start : start + size]
                batches.append(
                    Batch(
                        space=space,
                        stage=stage,
                        names=chunk,
                        label=batch_label(space, chunk),
                        collisions={
                            n: collisions[f"{space}/{n}"] for n in chunk if f"{space}/{n}" in collisions
                        },
                    )
                )
        return batches

    def _upstream_depths(self, space: str, names: Sequence[str]) -> dict[str, int]:
        """How many levels of same-stage upstream each asset has, from what the last sync stored in Glue.

        The listing does not say what a view reads; the ``datasphere.upstream`` parameter written by the
        previous sync does. Assets new since then count as depth 0. Used only to order batches.
        """
        database = database_name(self.rule, space)
        if database in self._missing_databases:
            return {}
        try:
            tables = self._tables.get(database) or self._table_states(database)
        except GlueCallFailed as error:
            log.warning("Batches of %s not ordered by upstream: %s", space, error)
            return {}
        if tables is None:
            self._missing_databases.add(database)
            return {}
        self._tables[database] = tables
        wanted = set(names)
        upstream = {
            str(state.holder[1]): [u for u in state.upstream if u in wanted]
            for state in tables.values()
            if state.owned and state.holder[0] == space and state.holder[1] in wanted
        }
        return _depths(upstream)

    # --- syncing assets ----------------------------------------------------------------------------

    def _sync_batches(self, batches: Sequence[Batch], *, dry_run: bool, full_refresh: bool) -> SyncReport:
        """Sync batches together: reads and writes share one pool, so a slow asset never idles the rest."""
        report = SyncReport(rule=self.rule.name, dry_run=dry_run)
        spaces = {batch["space"] for batch in batches}
        with (
            self._measured(report, "sync"),
            ThreadPoolExecutor(max_workers=self.max_workers) as pool,
            # Glue is read on threads of its own, while Datasphere answers the first reads.
            ThreadPoolExecutor(max_workers=min(GLUE_READERS, len(spaces) or 1)) as readers,
        ):
            current = self._databases(spaces, readers, report, dry_run=dry_run)
            refs = (ref for batch in batches for ref in self._batch_refs(batch, report))
            self._pipeline(refs, pool, current, report, dry_run=dry_run, full_refresh=full_refresh)
        log.info(
            "Rule %s: %d created, %d updated, %d unchanged, %d skipped, %d failed in %.2fs",
            self.rule.name,
            report.created,
            report.updated,
            report.unchanged,
            report.skipped,
            report.failed,
            report.duration_seconds,
        )
        return report

    def _pipeline(
        self,
        refs: Iterator[AssetRef],
        pool: ThreadPoolExecutor,
        current: Mapping[str, Future[dict[str, TableState] | str]],
        report: SyncReport,
        *,
        dry_run: bool,
        full_refresh: bool,
    ) -> None:
        """Sync assets on the pool with a bounded number in flight, so memory stays flat at any size."""
        window = IN_FLIGHT_PER_WORKER * self.max_workers
        in_flight: set[Future[None]] = set()
        # Each future reports itself here when done: waiting on the whole window instead would cost a
        # lock per future in flight for every completion.
        finished: queue.SimpleQueue[Future[None]] = queue.SimpleQueue()

        def fill() -> None:
            while len(in_flight) < window and (ref := next(refs, None)) is not None:
                future = pool.submit(
                    self._sync_asset, ref, current, report, dry_run=dry_run, full_refresh=full_refresh
                )
                in_flight.add(future)
                future.add_done_callback(finished.put)

        fill()
        while in_flight:
            future = finished.get()
            in_flight.discard(future)
            future.result()  # only an error that stops the run gets here; the rest are in the report
            fill()

    def _sync_asset(
        self,
        ref: AssetRef,
        current: Mapping[str, Future[dict[str, TableState] | str]],
        report: SyncReport,
        *,
        dry_run: bool,
        full_refresh: bool,
    ) -> None:
        """Read, map, plan and write one asset on a worker thread; a failure is reported, not raised."""
        try:
            desired = self._read_and_map(ref)
        except (DatasphereAuthError, DatasphereConfigError):
            raise  # every other asset would fail the same way: stop with the one clear message
        except Exception as error:
            log.warning("Asset %s failed: %s", ref.key, error)
            report.fail(ref.key, str(error) or repr(error))
            return
        action = desired and self._plan(desired, current, report, full_refresh=full_refresh)
        if action:
            apply_action(action, self.glue, report, dry_run=dry_run)

    def _databases(
        self, spaces: Collection[str], readers: ThreadPoolExecutor, report: SyncReport, *, dry_run: bool
    ) -> dict[str, Future[dict[str, TableState] | str]]:
        """Start reading each database's tables; the result is the tables, or why they could not be read."""
        databases = {database_name(self.rule, space): space for space in sorted(spaces)}
        return {
            database: readers.submit(self._database_or_reason, database, space, report, dry_run=dry_run)
            for database, space in databases.items()
        }

    def _database_or_reason(
        self, database: str, space: str, report: SyncReport, *, dry_run: bool
    ) -> dict[str, TableState] | str:
        started = time.monotonic()
        try:
            return self._current_tables(database, space, report, dry_run=dry_run)
        except GlueCallFailed as error:
            log.error("Glue database %s could not be read: %s", database, error)
            return f"Glue database {database} could not be read or created: {error}"
        finally:
            report.add_time("glue_read", time.monotonic() - started)

    def _plan(
        self,
        desired: DesiredTable,
        current: Mapping[str, Future[dict[str, TableState] | str]],
        report: SyncReport,
        *,
        full_refresh: bool,
    ) -> TableAction | None:
        tables = current[desired.database].result()
        if isinstance(tables, str):
            report.fail(desired.asset_key, tables)
            return None
        report.note(*desired.notes)
        return plan_table(desired, tables.get(desired.name), full_refresh=full_refresh)

    def _batch_refs(self, batch: Batch, report: SyncReport) -> Iterator[AssetRef]:
        """Turn a batch's names back into listed assets; collided and vanished ones are reported."""
        space = self._space(batch["space"])
        collisions = batch.get("collisions", {})
        for name in batch["names"]:
            key = f"{batch['space']}/{name}"
            if name in collisions:
                report.fail(key, collisions[name])
            elif name not in space.refs:
                report.skip(key, f"{key} is no longer listed in Datasphere; nothing written")
            else:
                yield space.refs[name]

    def _read_and_map(self, ref: AssetRef) -> DesiredTable | None:
        """Read and map one asset; None when, read, it turns out not to meet the rule's conditions."""
        asset = self.source.read_asset(ref)
        read = asset.ref
        if not self.matches_patterns(read.technical_name, read.business_name, read.semantic_usage):
            log.debug("Asset %s: not selected by its business name or semantic usage", ref.key)
            return None
        return build_desired_table(asset, self.rule, self._overrides)

    def _current_tables(
        self, database: str, space: str, report: SyncReport, *, dry_run: bool
    ) -> dict[str, TableState]:
        """The database's tables (one paginated read per run or job), creating the database if missing."""
        if database in self._tables:
            return self._tables[database]
        missing = database in self._missing_databases
        tables = None if missing else self._table_states(database)
        if tables is None:
            tables = {}
            if dry_run:
                report.act(f"create database {database}")
            elif not self.glue.create_database(
                database,
                description=self._database_description(space),
                parameters=self._database_parameters(space),
            ):
                tables = self._table_states(database) or {}  # another job created it meanwhile
            self._missing_databases.discard(database)
        self._tables[database] = tables
        return tables

    def _table_states(self, database: str) -> dict[str, TableState] | None:
        """Summaries of a database's tables, page by page, so a run never holds every definition."""
        try:
            return {state.name: state for state in map(TableState.of, self.glue.iter_tables(database))}
        except GlueCallFailed as error:
            if error.code == "EntityNotFoundException":
                return None
            raise

    def _database_description(self, space: str) -> str:
        if self._database_per_space:
            return f"Tables of SAP Datasphere space {space}, kept in step by datasphere_glue_sync."
        return "Tables of SAP Datasphere, kept in step by datasphere_glue_sync."

    def _database_parameters(self, space: str) -> dict[str, str]:
        parameters = {MANAGED_KEY: "true", RULE_KEY: self.rule.name}
        if self._database_per_space:
            parameters[SPACE_KEY] = space
        return parameters

    # --- finalize: lineage -------------------------------------------------------------------------

    def _apply_lineage(self, spaces: Sequence[str], report: SyncReport, *, dry_run: bool) -> None:
        """Record on each table which flows load it, for flows of the types this rule selects."""
        flows = [
            ref
            for space in spaces
            for ref in self._space(space).refs.values()
            if ref.object_type in self._flow_types and self.selects(ref)
        ]
        with ThreadPoolExecutor(max_workers=self._workers(len(flows))) as pool:
            reads = {pool.submit(self.source.read_flow, ref): ref for ref in flows}
            lineage: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
            unreadable: set[str] = set()
            for future in as_completed(reads):
                ref = reads[future]
                try:
                    flow = future.result()
                except Exception as error:
                    report.fail(ref.key, f"flow lineage not read: {error}")
                    unreadable.add(ref.space)
                    continue
                for target in flow.targets:
                    lineage[ref.space][target].add(f"{ref.object_type.value}:{ref.technical_name}")
        for space in spaces:
            # Removing lineage needs every flow of the space; adding it never does.
            prune = self._space(space).complete and space not in unreadable
            self._write_lineage(space, lineage.get(space, {}), report, dry_run=dry_run, prune=prune)

    def _write_lineage(
        self, space: str, loads: Mapping[str, set[str]], report: SyncReport, *, dry_run: bool, prune: bool
    ) -> None:
        database = database_name(self.rule, space)
        tables = self.glue.get_tables(database) or {}
        targets = {table_name(self.rule, name): name for name in loads}
        for name, table in sorted(tables.items()):
            parameters = table.get("Parameters") or {}
            if not is_owned(table) or parameters.get(SPACE_KEY) != space:
                continue
            technical_name = parameters.get(TECHNICAL_NAME_KEY, "")
            existing = {e for e in parameters.get(LINEAGE_KEY, "").split(",") if e}
            kept = {e for e in existing if e.split(":", 1)[0] not in self._flow_types} if prune else existing
            wanted = kept | loads.get(technical_name, set())
            if wanted == existing:
                continue
            table_input = table_input_from(table)
            if wanted:
                table_input["Parameters"][LINEAGE_KEY] = ",".join(sorted(wanted))
            else:
                table_input["Parameters"].pop(LINEAGE_KEY, None)
            line = f"lineage {database}.{name}: {', '.join(sorted(wanted)) or 'none'}"
            if dry_run:
                report.actions.append(line)
                continue
            try:
                self.glue.update_table(database, table_input, version_id=table.get("VersionId"))
            except GlueCallFailed as error:
                report.fail(f"{space}/{technical_name}", f"lineage not written: {error}")
        missing = sorted(name for table, name in targets.items() if table not in tables)
        if missing:
            report.notes.append(
                f"space {space}: flows load {', '.join(missing[:10])}, which have no Glue table yet"
            )

    # --- finalize: deletion ------------------------------------------------------------------------

    def _delete_vanished(
        self, spaces: Sequence[str], report: SyncReport, *, dry_run: bool, only: Collection[str] | None
    ) -> None:
        incomplete = [space for space in spaces if not self._space(space).complete]
        if incomplete:
            report.warnings.append(
                f"no table deleted: the listing of space(s) {', '.join(incomplete)} was incomplete, "
                "so a missing asset may only not have been seen"
            )
            return
        if only is not None:
            report.warnings.append("no table deleted: the run was limited to some assets")
            return
        owned, vanished = self._deletion_candidates(spaces)
        limit = self.rule.rule.deletion.max_delete_percent
        if owned and len(vanished) * 100.0 / owned > limit:
            report.errors["deletion fail-safe"] = (
                f"rule '{self.rule.name}' would delete {len(vanished)} of its {owned} owned tables "
                f"({len(vanished) * 100.0 / owned:.1f}%), more than max_delete_percent {limit:g}%; "
                "nothing was deleted"
            )
            log.error("%s", report.errors["deletion fail-safe"])
            return
        by_database: dict[str, dict[str, str]] = defaultdict(dict)
        for database, name, key in vanished:
            by_database[database][name] = key
        for database, names in sorted(by_database.items()):
            if dry_run:
                report.actions.extend(
                    f"delete {database}.{name} ({key})" for name, key in sorted(names.items())
                )
                report.count("deleted", len(names))
                continue
            refused = self.glue.delete_tables(database, names)
            for name, why in refused.items():
                report.fail(names.get(name, f"{database}.{name}"), f"delete {database}.{name} refused: {why}")
            report.count("deleted", len(names) - len(refused))
            log.info("Deleted %d vanished tables from %s", len(names) - len(refused), database)

    def _deletion_candidates(self, spaces: Sequence[str]) -> tuple[int, list[tuple[str, str, str]]]:
        """Count the rule's owned in-scope tables and find those whose asset no longer exists."""
        spaces_by_db: dict[str, set[str]] = defaultdict(set)
        for space in spaces:
            spaces_by_db[database_name(self.rule, space)].add(space)
        owned = 0
        vanished = []
        for database, db_spaces in sorted(spaces_by_db.items()):
            for name, table in sorted((self.glue.get_tables(database) or {}).items()):
                parameters = table.get("Parameters") or {}
                if not is_owned(table) or not self._in_scope(parameters, db_spaces):
                    continue
                owned += 1
                space, technical_name = parameters[SPACE_KEY], parameters[TECHNICAL_NAME_KEY]
                if technical_name not in self._space(space).refs:
                    vanished.append((database, name, f"{space}/{technical_name}"))
        return owned, vanished

    def _in_scope(self, parameters: Mapping[str, str], spaces: Collection[str]) -> bool:
        """Judge scope from the table's own parameters, not from which rule wrote it last."""
        try:
            object_type = ObjectType(parameters.get(OBJECT_TYPE_KEY, ""))
        except ValueError:
            return False
        return (
            parameters.get(SPACE_KEY) in spaces
            and object_type in self._table_types
            and bool(parameters.get(TECHNICAL_NAME_KEY))
            and self.matches_patterns(
                parameters[TECHNICAL_NAME_KEY],
                parameters.get(BUSINESS_NAME_KEY) or None,
                parameters.get(SEMANTIC_USAGE_KEY) or None,
            )
        )

    # --- bookkeeping -------------------------------------------------------------------------------

    def _workers(self, tasks: int) -> int:
        return max(1, min(self.max_workers, tasks))

    @contextmanager
    def _measured(self, report: SyncReport, phase: str) -> Generator[None, None, None]:
        """Time a step and attribute the Datasphere and Glue calls made during it to its report."""
        source_before, glue_before = Counter(self.source.calls), Counter(self.glue.calls)
        started = time.monotonic()
        try:
            yield
        finally:
            elapsed = time.monotonic() - started
            report.add_time(phase, elapsed)
            report.duration_seconds += elapsed
            report.add_calls("datasphere", Counter(self.source.calls) - source_before)
            report.add_calls("glue", Counter(self.glue.calls) - glue_before)

    @contextmanager
    def _timed(self, report: SyncReport, phase: str) -> Generator[None, None, None]:
        started = time.monotonic()
        try:
            yield
        finally:
            report.add_time(phase, time.monotonic() - started)


def record_failed_listings(report: SyncReport, spaces: Iterable[str]) -> dict[str, str]:
    """Fail ``report`` once per space whose listing broke off; return those errors by key.

    :param report: the run's report.
    :param spaces: :attr:`Discovery.failed_spaces` of the run.
    """
    errors = {f"space {space}": LISTING_FAILED.format(space=space) for space in spaces}
    for key, message in errors.items():
        report.fail(key, message)
    return errors


def batch_label(space: str, names: Sequence[str]) -> str:
    """A readable label for a batch, e.g. ``SALES: ORDERS, CUSTOMERS +48``."""
    shown = ", ".join(names[:LABEL_NAMES])
    rest = len(names) - LABEL_NAMES
    return f"{space}: {shown} +{rest}" if rest > 0 else f"{space}: {shown}"


def _depths(upstream: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Longest upstream chain per node; a cycle (which Datasphere would not allow) is cut, not followed."""
    depths: dict[str, int] = {}

    def depth(name: str, visiting: frozenset[str]) -> int:
        if name in depths:
            return depths[name]
        parents = [p for p in upstream.get(name, ()) if p not in visiting]
        result = 1 + max((depth(p, visiting | {name}) for p in parents), default=-1)
        depths[name] = result
        return result

    for name in upstream:
        depth(name, frozenset())
    return depths


def _condition_holds(value: str | None, patterns: Sequence[str], unknown_passes: bool) -> bool:
    """A rule condition with no patterns always holds; an unknown value holds only when allowed."""
    if not patterns:
        return True
    if value is None:
        return unknown_passes
    return _any_match(value, patterns)


def _any_match(value: str, patterns: Iterable[str]) -> bool:
    lowered = value.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)
