"""Register the sync metrics page, its JSON API and Prometheus endpoint with the Airflow API server."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from include.datasphere_glue.metrics.app import URL_PREFIX, create_app


class DatasphereSyncMetricsPlugin(AirflowPlugin):
    """Mounts the metrics app and puts "Sync metrics" in the Airflow UI's navigation."""

    name = "datasphere_sync_metrics"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Datasphere sync metrics"}]
    external_views = [
        {
            "name": "Sync metrics",
            "href": f"{URL_PREFIX}/",
            "url_route": "datasphere-sync",
            "destination": "nav",
            "category": "browse",
        }
    ]
