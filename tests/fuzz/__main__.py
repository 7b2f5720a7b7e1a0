"""`make fuzz`: send fuzz cases to a real gunicorn with default settings (the bundled models) and print the counts per
status and per format; exit 1 on any 5xx, dropped connection, worker restart, traceback or upload written to disk.

    PYTHONPATH=.:tests python -m fuzz --cases 50000 [--seed 1] [--concurrency 4] [--save-failures DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from servers import gunicorn
from testdata import REPO_ROOT

from .cases import make_case
from .runner import ServerWatch, first_lines, run_cases


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], prog="python -m fuzz")
    parser.add_argument("--cases", type=int, default=3000, help="how many cases to send (default 3000)")
    parser.add_argument("--seed", type=int, default=1, help="run number: the same number sends the same cases "
                                                             "(default 1)")
    parser.add_argument("--first", type=int, default=0, help="index of the first case (default 0)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / "models",
                        help="models the server loads (default: the bundled models/)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--save-failures", type=Path, default=None,
                        help="folder for the bodies of failing cases (default: not saved)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder, \
            gunicorn(args.model_dir, Path(folder), workers=args.workers) as server:
        watch = ServerWatch(server, [Path(tempfile.gettempdir()), REPO_ROOT]).start()
        print(f"fuzzing {server.base} with {args.cases} cases (seed {args.seed}), {args.concurrency} at a time",
              flush=True)
        report = run_cases(server.base, args.seed, args.cases, args.concurrency, first=args.first,
                           progress_every=max(100, args.cases // 20))
        problems = report.failures + watch.problems(report, skip=[Path(folder)])
    print(f"\n{report.summary()}; wall time with server start {time.perf_counter() - started:.0f} s\n")
    print(report.table())
    if args.save_failures and report.failures:
        args.save_failures.mkdir(parents=True, exist_ok=True)
        for line in report.failures:
            index = int(line.split("case ", 1)[1].split(" ", 1)[0])
            (args.save_failures / f"seed{args.seed}-case{index}.bin").write_bytes(make_case(args.seed, index).body)
    if problems:
        print("\nFAILED:\n" + first_lines(problems), file=sys.stderr)
        return 1
    print("\nno 5xx, no dropped connection, no worker restart, no traceback, nothing written to disk")
    return 0


if __name__ == "__main__":
    sys.exit(main())
