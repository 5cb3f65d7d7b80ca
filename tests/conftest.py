"""Fixtures shared by every test: local servers that speak the real APIs."""

pytest_plugins = [
    "tests.fixtures.aws",
    "tests.fixtures.datasphere",
    "tests.fixtures.airflow",
    "tests.fixtures.stack",
]
