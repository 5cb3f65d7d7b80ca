"""Glue Data Catalog access for the sync: paginated reads, retried writes, and a count of every call."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

log = logging.getLogger(__name__)

WRITE_OPERATIONS = frozenset(
    {"CreateDatabase", "UpdateDatabase", "CreateTable", "UpdateTable", "DeleteTable", "BatchDeleteTable"}
)
BATCH_DELETE_MAX = 100
# Glue answers these when it is busy or another writer got there first; both pass on a later attempt.
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ConcurrentModificationException",
        "InternalServiceException",
        "OperationTimeoutException",
        "ResourceNotReadyException",
    }
)


class GlueCallFailed(Exception):
    """A Glue call failed; ``code`` keeps the AWS error code (empty when there was none)."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(f"Glue {operation} failed: {code or 'error'}: {message}")
        self.operation = operation
        self.code = code


class GlueCatalog:
    """The sync's view of the Glue Data Catalog, over a boto3 Glue client.

    :param client: a boto3 Glue client, e.g. from ``GlueCatalogHook(aws_conn_id).get_conn()``; boto3
        clients are safe to share between threads.
    :param catalog_id: the AWS account owning the catalog; None means the caller's account.
    :param skip_archive: pass ``SkipArchive`` on updates, since Glue caps the number of table versions.
    :param max_attempts: attempts per call when Glue throttles or reports a concurrent modification.
    :param backoff_seconds: first retry delay; doubles each attempt, with full jitter.
    """

    def __init__(
        self,
        client: Any,
        *,
        catalog_id: str | None = None,
        skip_archive: bool = True,
        max_attempts: int = 8,
        backoff_seconds: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._catalog_id = catalog_id
        self._skip_archive = skip_archive
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    @property
    def writes(self) -> int:
        """Write calls made so far (creates, updates, deletes of databases and tables)."""
        with self._lock:
            return sum(n for operation, n in self.calls.items() if operation in WRITE_OPERATIONS)

    def list_databases(self) -> list[str]:
        """Names of every database in the catalog, following ``NextToken`` to the last page."""
        names: list[str] = []
        for page in self._pages("GetDatabases", {}):
            names.extend(database["Name"] for database in page.get("DatabaseList", []))
        return names

    def get_tables(self, database: str) -> dict[str, dict[str, Any]] | None:
        """Every table of a database by name, or None when the database does not exist.

        One paginated ``GetTables`` per database is far cheaper than one ``GetTable`` per asset.
        """
        try:
            return {table["Name"].lower(): table for table in self.iter_tables(database)}
        except GlueCallFailed as error:
            if error.code == "EntityNotFoundException":
                return None
            raise

    def iter_tables(self, database: str) -> Iterator[dict[str, Any]]:
        """Yield a database's tables page by page, so a caller can keep less than all of them.

        :raises GlueCallFailed: with code ``EntityNotFoundException`` when the database does not exist.
        """
        for page in self._pages("GetTables", {"DatabaseName": database}):
            yield from page.get("TableList", [])

    def create_database(self, name: str, *, description: str, parameters: dict[str, str]) -> bool:
        """Create a database; return False when someone else created it first."""
        database_input = {"Name": name, "Description": description, "Parameters": parameters}
        try:
            self._call("CreateDatabase", DatabaseInput=database_input)
        except GlueCallFailed as error:
            if error.code == "AlreadyExistsException":
                return False
            raise
        log.info("Created Glue database %s", name)
        return True

    def create_table(self, database: str, table_input: dict[str, Any]) -> None:
        """Create a table in a database."""
        self._call("CreateTable", DatabaseName=database, TableInput=table_input)

    def update_table(self, database: str, table_input: dict[str, Any], *, version_id: str | None) -> None:
        """Replace a table's definition, guarded by the version Glue returned when we read it."""
        arguments: dict[str, Any] = {
            "DatabaseName": database,
            "TableInput": table_input,
            "SkipArchive": self._skip_archive,
        }
        if version_id:
            arguments["VersionId"] = version_id
        self._call("UpdateTable", **arguments)

    def delete_tables(self, database: str, names: Iterable[str]) -> dict[str, str]:
        """Delete tables, at most 100 a call; return the tables Glue refused to delete, with why."""
        refused: dict[str, str] = {}
        pending = sorted(names)
        for start in range(0, len(pending), BATCH_DELETE_MAX):
            chunk = pending[start : start + BATCH_DELETE_MAX]
            response = self._call("BatchDeleteTable", DatabaseName=database, TablesToDelete=chunk)
            for error in response.get("Errors", []):
                detail = error.get("ErrorDetail", {})
                refused[error.get("TableName", "?")] = (
                    f"{detail.get('ErrorCode', 'error')}: {detail.get('ErrorMessage', '')}".strip()
                )
        return refused

    def _pages(self, operation: str, arguments: dict[str, Any]) -> Iterable[dict[str, Any]]:
        token: str | None = None
        while True:
            page_arguments = {**arguments, "NextToken": token} if token else arguments
            page = self._call(operation, **page_arguments)
            yield page
            token = page.get("NextToken")
            if not token:
                return

    def _call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        """Call Glue, retrying throttling and concurrent modification with jittered exponential backoff."""
        from botocore.exceptions import ClientError  # boto stays out of module import (parse time)

        if self._catalog_id:
            arguments["CatalogId"] = self._catalog_id
        method = getattr(self._client, _snake_case(operation))
        for attempt in range(1, self._max_attempts + 1):
            with self._lock:
                self.calls[operation] += 1
            try:
                response: dict[str, Any] = method(**arguments)
                return response
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", ""))
                message = str(error.response.get("Error", {}).get("Message", error))
                if code not in RETRYABLE_CODES or attempt == self._max_attempts:
                    raise GlueCallFailed(operation, code, message) from error
                delay = random.uniform(0, self._backoff_seconds * 2 ** (attempt - 1))
                log.info("Glue %s answered %s; retry %d in %.2fs", operation, code, attempt, delay)
                self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _snake_case(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
