"""Build a rule's sync engine from Airflow connection ids: shared by the DAG tasks and the CLI."""

from __future__ import annotations

import logging
from collections.abc import Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.config import Config

    from include.datasphere_glue.rules.model import ResolvedRule
    from include.datasphere_glue.sync.engine import SyncEngine

log = logging.getLogger(__name__)

DEFAULT_DATASPHERE_CONN_ID = "datasphere_default"
DEFAULT_AWS_CONN_ID = "aws_default"


def build_engine(
    rule: ResolvedRule,
    *,
    datasphere_conn_id: str = DEFAULT_DATASPHERE_CONN_ID,
    aws_conn_id: str = DEFAULT_AWS_CONN_ID,
) -> SyncEngine:
    """Connect a sync engine for ``rule`` to Datasphere and Glue through two Airflow connections.

    Connections resolve as anywhere in Airflow, so ``AIRFLOW_CONN_DATASPHERE_DEFAULT`` and
    ``AIRFLOW_CONN_AWS_DEFAULT`` environment variables work outside a scheduler too. The hooks, boto3
    and the engine are imported here, never when a DAG file is parsed.

    :param rule: the resolved rule to sync.
    :param datasphere_conn_id: Airflow connection of type ``datasphere``.
    :param aws_conn_id: Airflow AWS connection; ``endpoint_url`` in its extras points it at a local Glue.
    """
    from airflow.providers.amazon.aws.hooks.glue_catalog import GlueCatalogHook

    from include.datasphere_glue.datasphere.hook import DatasphereHook
    from include.datasphere_glue.glue.catalog import GlueCatalog
    from include.datasphere_glue.sync.engine import SyncEngine

    source = DatasphereHook(datasphere_conn_id=datasphere_conn_id).get_catalog()
    glue_hook = GlueCatalogHook(aws_conn_id=aws_conn_id, region_name=rule.target.region)
    client = glue_hook.get_client_type(
        region_name=rule.target.region,
        config=glue_client_config(glue_hook.config, rule.job.max_parallel_requests),
    )
    log.info(
        "Syncing rule %s from connection %s into Glue (%s) through connection %s",
        rule.name,
        datasphere_conn_id,
        rule.target.region,
        aws_conn_id,
    )
    return SyncEngine(source, GlueCatalog(client, catalog_id=rule.target.catalog_id), rule)


def glue_client_config(config: Config | None, workers: int) -> Config:
    """The connection's botocore config, sized for the engine's threads and without client-side validation.

    botocore keeps ten pooled connections by default; with more threads, each call past the tenth opens
    and drops a connection of its own. Validating every large ``TableInput`` on the client costs a
    noticeable share of the engine's CPU, and Glue validates it again anyway; the sync enforces Glue's
    name and length limits before it writes. A connection that sets ``parameter_validation`` keeps it.

    :param config: the botocore config of the AWS connection, if it has one.
    :param workers: the engine's worker threads.
    """
    from botocore.config import Config

    from include.datasphere_glue.sync.engine import GLUE_READERS

    pool = Config(max_pool_connections=max(10, workers + GLUE_READERS))
    defaults = Config(parameter_validation=False)
    return (defaults.merge(config) if config is not None else defaults).merge(pool)


@contextmanager
def open_engine(
    rule: ResolvedRule,
    *,
    datasphere_conn_id: str = DEFAULT_DATASPHERE_CONN_ID,
    aws_conn_id: str = DEFAULT_AWS_CONN_ID,
) -> Generator[SyncEngine, None, None]:
    """Build an engine as :func:`build_engine` does, and close its Datasphere session afterwards.

    :param rule: the resolved rule to sync.
    :param datasphere_conn_id: Airflow connection of type ``datasphere``.
    :param aws_conn_id: Airflow AWS connection.
    """
    engine = build_engine(rule, datasphere_conn_id=datasphere_conn_id, aws_conn_id=aws_conn_id)
    try:
        yield engine
    finally:
        close = getattr(engine.source, "close", None)
        if callable(close):
            close()
