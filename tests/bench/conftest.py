"""Benchmarks share the test fixtures."""
