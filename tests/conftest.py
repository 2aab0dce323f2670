"""Shared fixtures: each expensive real thing is made once per session, in tests/fixtures/."""

pytest_plugins = ["tests.fixtures.model", "tests.fixtures.cluster", "tests.fixtures.images"]
