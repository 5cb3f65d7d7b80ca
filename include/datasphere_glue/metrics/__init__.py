"""Sync metrics for the Airflow UI plugin: bounded queries, JSON API, Prometheus text and the page."""
