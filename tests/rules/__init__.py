"""Tests of the sync rules: loading, validation errors, defaults and the shipped rules."""
