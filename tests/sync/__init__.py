"""Tests of the sync engine, planner, applier and report."""
