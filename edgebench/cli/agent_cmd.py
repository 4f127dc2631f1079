"""``edgebench agent``: serve one device to a Dask farm (a Dask worker with the device's resource)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """\
examples:
  dask scheduler --host 0.0.0.0 --port 8786                              once, on a lab host
  edgebench agent --scheduler tcp://lab-host:8786 --profile jetson-nano   on each device
  edgebench run --cluster tcp://lab-host:8786 --profile jetson-nano --profile raspberry-pi-5
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "agent", help="serve this device to a Dask farm",
        description="Start a Dask worker that offers one unit of the resource named after the profile "
                    "(edgebench-<profile>), so the scheduler runs one case at a time on this device. Each case "
                    "runs in a fresh worker process, as the profile's transport says (local by default).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scheduler", required=True, metavar="tcp://HOST:PORT", help="the Dask scheduler")
    parser.add_argument("--profile", required=True, metavar="NAME|PATH", help="the device this agent serves")
    parser.add_argument("--name", help="worker name shown by the scheduler (default: <profile>-<host>)")
    parser.add_argument("--host", help="address to listen on (default: the one that routes to the scheduler)")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="model cache (default: ~/.cache/edgebench/models)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import socket

    from edgebench.config.profile import load_profile
    from edgebench.optional import require
    from edgebench.transports import dask_farm

    Worker = require("distributed", "edgebench agent").Worker
    profile = load_profile(args.profile)
    options = dask_farm.DaskOptions.for_profile(profile, args.scheduler)
    dask_farm.AGENT_PROFILES[options.resource] = profile
    if args.cache_dir:
        dask_farm.AGENT_CACHE.append(args.cache_dir)
    name = args.name or f"{profile.name}-{socket.gethostname()}"

    async def serve() -> None:
        async with Worker(args.scheduler, nthreads=1, resources={options.resource: 1}, name=name,
                          host=args.host, dashboard=False, memory_limit=0) as worker:
            print(f"edgebench agent: {name} serves {profile.name} (resource {options.resource}) at "
                  f"{worker.address} for {args.scheduler}", file=sys.stderr, flush=True)
            await worker.finished()

    try:
        asyncio.run(serve())
    except (OSError, TimeoutError) as exc:
        print(f"edgebench: error: cannot join the Dask scheduler {args.scheduler}: {exc}", file=sys.stderr)
        return 3
    return 0
