"""Tests of the Glue side: type mapping, naming, desired tables, catalog access."""
