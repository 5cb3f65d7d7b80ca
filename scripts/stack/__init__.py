"""Helpers of the local stack: supervised processes and a small client of Airflow's REST API."""
