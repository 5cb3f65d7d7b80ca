"""Sync of one rule: plan against Glue, apply, and report."""
