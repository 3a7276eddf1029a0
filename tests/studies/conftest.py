"""The web fixtures (real app factory on the test database) for the planner page tests."""

from tests.web.conftest import app, client, make_user  # noqa: F401 - pytest fixtures
