"""`python -m edgecloud.serving_main FOLDER`: MLServer's `mlserver start FOLDER`, with gRPC's HTTP/2 options set.

MLServer takes gRPC server options only through its private `_custom_grpc_server_settings`, which a settings file
cannot set, so this entry point sets it on the loaded settings and starts the server as `mlserver start` does.
"""

from __future__ import annotations

import asyncio
import sys

from mlserver.cli.serve import load_settings
from mlserver.logging import configure_logger
from mlserver.server import MLServer
from mlserver.utils import install_uvloop_event_loop

from edgecloud.client import GRPC_HTTP2_OPTIONS


async def _start(folder: str) -> None:
    settings, models = await load_settings(folder)
    settings._custom_grpc_server_settings = dict(GRPC_HTTP2_OPTIONS)
    await MLServer(settings).start(models)


if __name__ == "__main__":
    configure_logger()
    install_uvloop_event_loop()
    asyncio.run(_start(sys.argv[1]))
