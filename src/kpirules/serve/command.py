"""`kpirules serve`: its arguments (registered by cli.py without importing the web stack) and
running the app on uvicorn."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

DEFAULT_MAX_BODY = 10 * 1024 * 1024


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policies", metavar="DIR", default="policies",
                   help="folder of .rules files to serve (default: policies/); reloaded when they change")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000; 0 picks a free one)")
    p.add_argument("--max-body", metavar="BYTES", type=int, default=DEFAULT_MAX_BODY, dest="max_body",
                   help=f"largest request body taken, in bytes (default: {DEFAULT_MAX_BODY}); longer ones get 413")
    p.add_argument("--body-timeout", metavar="SECONDS", type=float, default=30.0, dest="body_timeout",
                   help="how long a request body may take to arrive (default: 30); a slower one gets 408")
    p.add_argument("--reload-interval", metavar="SECONDS", type=float, default=1.0, dest="reload_interval",
                   help="how often to look for changed policy files (default: 1; 0 never reloads)")


def run(args) -> int:
    try:
        import uvicorn

        from .app import create_app
    except ImportError as exc:
        print(f"kpirules: error: `kpirules serve` needs the serve extra ({exc.name} is missing): "
              "pip install 'kpirules[serve]'", file=sys.stderr)
        return 2
    if not Path(args.policies).is_dir():
        print(f"kpirules: error: --policies: `{args.policies}` is not a folder", file=sys.stderr)
        return 2
    if args.max_body < 1:
        print("kpirules: error: --max-body must be a positive number of bytes", file=sys.stderr)
        return 2
    if not args.body_timeout > 0:
        print("kpirules: error: --body-timeout must be a positive number of seconds", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    app = create_app(args.policies, max_body=args.max_body, reload_interval=args.reload_interval,
                     body_timeout=args.body_timeout)
    served = app.state.registry.entries
    where = f"http://{args.host}:{args.port}/" if args.port else f"a free port of {args.host} (uvicorn names it below)"
    print(f"kpirules: serving {len(served)} polic{'y' if len(served) == 1 else 'ies'} from {args.policies} "
          f"on {where} (playground at /, API under /v1, OpenAPI at /openapi.json)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="info",
                timeout_keep_alive=5, server_header=False)
    return 0
