"""Fakes, fixtures and helpers shared by the test suites."""
