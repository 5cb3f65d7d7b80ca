"""Command line: run the local Datasphere emulator until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from emulators.datasphere.catalog import CatalogError, load_catalog
from emulators.datasphere.server import make_server

DEFAULT_CLIENT_ID = "emulator-client"
DEFAULT_CLIENT_SECRET = "emulator-secret"  # a local emulator's well-known test secret


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, serve the catalog, print one ready line with the URL, stop cleanly on a signal.

    :param argv: command-line arguments without the program name.
    """
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        catalog = load_catalog(args.catalog)
    except CatalogError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    server = make_server(
        catalog,
        host=args.host,
        port=args.port,
        client_id=args.client_id,
        client_secret=args.client_secret,
        latency_ms=args.latency_ms,
        token_lifetime=args.token_lifetime,
        verbose=args.verbose,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # serve_forever runs in a thread because shutdown() must come from another thread than the loop's.
    serving = threading.Thread(target=server.serve_forever, name="datasphere-emulator", daemon=True)
    serving.start()
    assets = sum(1 for _ in catalog.assets())
    print(
        f"Datasphere emulator ready at {server.url} ({len(catalog.spaces)} spaces, {assets} assets)",
        flush=True,
    )
    stop.wait()
    server.shutdown()
    server.server_close()
    serving.join(timeout=5)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulators.datasphere", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument(
        "--catalog", default="demo", help="demo, a catalog JSON file, or synthetic:ASSETS:SPACES[:SEED]"
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every API call")
    parser.add_argument("--token-lifetime", type=int, default=3600, help="seconds an access token lives")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


if __name__ == "__main__":
    sys.exit(main())
