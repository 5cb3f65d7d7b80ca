"""Command line: run the local Glue (moto in server mode) until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse

from emulators.glue.server import serve


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve moto.

    :param argv: command-line arguments without the program name.
    """
    parser = argparse.ArgumentParser(prog="python -m emulators.glue", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=5000, help="port to bind (default: 5000)")
    args = parser.parse_args(argv)
    serve(args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
