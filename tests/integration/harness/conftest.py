"""What the harness's own tests hand the pytest runs they start inside themselves."""

from __future__ import annotations

import pytest

from golden_path.services.model import Services
from golden_path.testing.services.session import shared_services


@pytest.fixture
def redis_admin_url(request: pytest.FixtureRequest, gp_services: Services) -> str:
    """The run's unrestricted Redis URL, for an inner run's ``GOLDEN_PATH_REDIS_URL``: an
    inner run makes ACL users and draws databases of its own, as an outer run does (a
    worker's own ``gp_services.redis_url`` can do neither, by design)."""
    return shared_services(request.config).redis_admin_url
