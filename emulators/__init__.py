"""Local stand-ins for the remote systems the sync talks to; never loaded by Airflow in production."""
