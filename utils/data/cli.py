"""``python -m utils.data``: list the datasets, fetch some or all, or write a mirror for a lab without internet."""

from __future__ import annotations

import time

from ..paths import data_dir, mirror_dir
from .errors import DataError
from .mirror import status_lines, write_mirror
from .registry import REGISTRY
from .store import fetch, mirror_problem


def main(argv: list[str] | None = None) -> int:
    """``python -m utils.data``: list datasets, fetch some or all, or write a mirror for a lab without internet."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m utils.data", description=main.__doc__)
    sub = parser.add_subparsers(dest="cmd")
    sub.add_parser("list", help="the registry and where each dataset would come from now")
    p_fetch = sub.add_parser("fetch", help="fetch datasets into the cache (all when none is named)")
    p_fetch.add_argument("names", nargs="*", metavar="NAME")
    p_mirror = sub.add_parser("mirror", help="write the datasets (all when none is named) as a mirror folder")
    p_mirror.add_argument("dest", help="the folder to write (files + SHA256SUMS)")
    p_mirror.add_argument("names", nargs="*", metavar="NAME")
    args = parser.parse_args(argv)
    try:
        if args.cmd in (None, "list"):
            problem = mirror_problem()
            print(f"data dir: {data_dir()}\nmirror:   {mirror_dir() or 'not set (COURSE_DATA_MIRROR)'}"
                  + (f"\nwarning:  {problem}" if problem else ""))
            print("\n".join(status_lines()))
        elif args.cmd == "fetch":
            for name in args.names or REGISTRY:
                t0 = time.perf_counter()
                paths = fetch(name)
                print(f"{name}: {len(paths)} path(s) from {paths.origin} ({', '.join(sorted(set(paths.kinds)))}), "
                      f"{time.perf_counter() - t0:.1f} s")
        else:
            sums = write_mirror(args.dest, args.names or None)
            print(f"wrote {sums}; check it with: cd {sums.parent} && sha256sum -c SHA256SUMS")
    except (DataError, KeyError, TypeError, ValueError) as exc:
        print(f"error: {exc}")
        return 2
    return 0

