"""Benchmarks: scripts that measure and print numbers, never pass/fail tests."""
