"""``golden-path serve``: the reference server in the foreground, on its own services if need be."""

from __future__ import annotations

import gc
import sys
from dataclasses import replace

from golden_path.server.config import ConfigError, Settings
from golden_path.server.runner import GoldenPathServer, uvicorn_config
from golden_path.server.web import with_page_origin
from golden_path.services.embedded import EmbeddedProvider
from golden_path.services.model import ServicesError


def serve(host: str, port: int) -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"golden-path serve: {exc}", file=sys.stderr)
        return 2
    if bool(settings.postgres_dsn) != bool(settings.redis_url):
        print(
            "golden-path serve: set both GOLDEN_PATH_POSTGRES_DSN and GOLDEN_PATH_REDIS_URL, "
            "or neither to run on embedded services",
            file=sys.stderr,
        )
        return 2
    provider: EmbeddedProvider | None = None
    if not settings.postgres_dsn:
        provider = EmbeddedProvider()
        try:
            services = provider.start()
        except ServicesError as exc:
            print(f"golden-path serve: {exc}", file=sys.stderr)
            return 1
        settings = replace(
            settings, postgres_dsn=services.postgres_dsn, redis_url=services.redis_url
        )
        print(
            f"embedded services: {services.postgres_dsn} {services.redis_url} "
            "(stopped when the server stops)",
            flush=True,
        )
    # The chat page at / is this server's own: its origin joins the allow-list.
    settings = with_page_origin(settings, host, port)
    try:
        server = GoldenPathServer(uvicorn_config(settings, host=host, port=port, log_level="info"))
        # Everything loaded so far (the libraries, the app) lives as long as the process;
        # frozen, it is out of the collector's way, and a full collection scans only what
        # came after. The benchmark saw full-collection pauses of 75-120 ms before (they
        # were its phase 4's p99), 10-65 ms after.
        gc.collect()
        gc.freeze()
        server.run()
        return 0 if server.started else 1
    finally:
        if provider is not None:
            provider.stop()
