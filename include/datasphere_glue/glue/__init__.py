"""Glue side of the sync: type mapping, naming, desired tables, and catalog access."""
