"""Tests of the command line: lint, plan and sync."""
