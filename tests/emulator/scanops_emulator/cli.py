# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's command line, shared by every way of starting it:

    scanops-emulator --host 127.0.0.1 --port 8765     (installed: pip install ./tests/emulator)
    python -m scanops_emulator --port 0
    python tests/emulator/serve.py --port 0           (from a checkout)

Prints exactly one line once it accepts connections:
    scanops-emulator ready on http://127.0.0.1:<port>
"""

import argparse
import asyncio
import socket
import sys

import uvicorn

from .app import create_app
from .store import PROFILES


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Emulator of the CloudGeni, Kolega, AgileSec, HarborGuard and Penaxtra scan APIs.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free port (default 8765)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="test",
                        help="test: sub-second scans, limits off; demo: scans of a few seconds, limits on")
    parser.add_argument("--seed", type=int, default=0, help="seed of the deterministic data generator (default 0)")
    parser.add_argument("--documented-only", action="store_true",
                        help="serve only what the vendor pages document: assumed endpoints answer 404, undocumented "
                             "body fields and values are rejected, required headers are enforced (docs/emulator.md)")
    parser.add_argument("--path-prefix", default="",
                        help="serve everything below this path (e.g. /gateway/scanops), as behind a gateway; the ready line "
                             "includes it")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")
    return parser.parse_args(argv)


async def serve(args):
    prefix = ("/" + args.path_prefix.strip("/")) if args.path_prefix.strip("/") else ""
    app, _emulator = create_app(profile=args.profile, seed=args.seed, documented_only=args.documented_only, path_prefix=prefix)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP,
    # and without it keep-alive clients wait ~40 ms per answer (Nagle plus delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    # The connection-drop faults abort the transport of uvicorn's request cycle; both of uvicorn's
    # HTTP implementations expose it. httptools (a C parser) roughly doubles throughput when installed.
    config = uvicorn.Config(app, http=http_implementation(), lifespan="on", access_log=False, log_level=args.log_level,
                            timeout_keep_alive=30, server_header=False, date_header=True)
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            return 1
        await asyncio.sleep(0.01)
    host = "[%s]" % args.host if family == socket.AF_INET6 else args.host
    sys.stdout.write("scanops-emulator ready on http://%s:%d%s\n" % (host, port, prefix))
    sys.stdout.flush()
    await task
    return 0


def http_implementation():
    try:
        import httptools  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        return "h11"
    return "httptools"


def install_fast_loop():
    """Use uvloop when it is installed (uvicorn's own choice), since serve() runs its own loop."""
    try:
        import uvloop  # pylint: disable=import-outside-toplevel
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def main(argv=None):
    args = parse_args(argv)
    install_fast_loop()
    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0
