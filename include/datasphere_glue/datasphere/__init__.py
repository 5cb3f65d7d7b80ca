"""Reading SAP Datasphere: spaces, assets, columns and lineage over its REST APIs.

The Airflow hook lives in :mod:`.hook` and is imported from there, so that this package stays usable
without Airflow (the command-line tool and the benchmarks build a :class:`DatasphereConfig` by hand).
"""

from __future__ import annotations

from include.datasphere_glue.datasphere.catalog import DatasphereCatalog, SpaceListing
from include.datasphere_glue.datasphere.client import DatasphereConfig, RetryPolicy
from include.datasphere_glue.datasphere.errors import (
    AssetReadError,
    DatasphereAuthError,
    DatasphereConfigError,
    DatasphereError,
    DatasphereHTTPError,
    DatasphereUnavailable,
    DocumentError,
)

__all__ = [
    "AssetReadError",
    "DatasphereAuthError",
    "DatasphereCatalog",
    "DatasphereConfig",
    "DatasphereConfigError",
    "DatasphereError",
    "DatasphereHTTPError",
    "DatasphereUnavailable",
    "DocumentError",
    "RetryPolicy",
    "SpaceListing",
]
