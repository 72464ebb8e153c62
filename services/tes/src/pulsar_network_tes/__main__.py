"""Run the service: python -m pulsar_network_tes --config /etc/pulsar-network-tes/settings.yml

--check-config reads the settings file, says what is wrong with it in one line and exits (the role's validate:).
The service listens on loopback; nginx in front of it terminates TLS.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import AsyncIterator

from fastapi import FastAPI

from . import config, files_api, logs
from .app import create_app
from .pulsar_backend import PulsarBackend, files_secret
from .store import TaskStore

DEFAULT_CONFIG = "/etc/pulsar-network-tes/settings.yml"


def build(settings: config.Settings) -> FastAPI:
    store = TaskStore(settings.store)
    # Beside the jobs' directory in the service's state directory, whichever database holds the tasks.
    secret = files_secret(os.path.join(os.path.dirname(os.path.abspath(settings.backend.work_dir)), "job_files.key"))
    backend = PulsarBackend(settings, store, secret)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        backend.start()
        logs.event("service_started", endpoints=[e.name for e in settings.endpoints])
        yield
        backend.stop()
        store.close()

    return create_app(settings, store, backend, routers=(files_api.router(secret, backend.staging.job_dir),),
                      lifespan=lifespan)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pulsar-network-tes", description="GA4GH TES 1.1 for the Pulsar Network")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help=f"the settings file (default {DEFAULT_CONFIG})")
    parser.add_argument("--check-config", metavar="PATH", help="check a settings file and exit")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args(argv)
    try:
        settings = config.load(args.check_config or args.config)
    except config.ConfigError as error:
        print(f"settings: {error}", file=sys.stderr)
        return 2
    if args.check_config:
        return 0
    import uvicorn

    logs.setup()
    uvicorn.run(build(settings), host=args.host, port=args.port, log_config=None, access_log=False,
                proxy_headers=True, forwarded_allow_ips="127.0.0.1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
