"""`make fuzz-deep`: coverage-guided fuzzing (atheris, libFuzzer) of the in-process entry points in targets.py, one
child process per target (libFuzzer ends the process it runs in), each for its share of the time budget. The seeds
start each corpus; a crash is written to tests/fuzz/regressions/<target>/ (replayed by
tests/pipeline/test_fuzz_regressions.py), so fix it and commit the file.

    PYTHONPATH=.:tests python -m fuzz.deep --seconds 300 [--targets upload provenance]
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from .targets import REGRESSIONS, TARGETS
# Python modules whose branches guide the fuzzer: ours, and Pillow's plugins (FFmpeg, libavif, libheif and c2pa are
# native code, which atheris does not see into; their failures still surface as exceptions).
INSTRUMENTED = ["pipeline", "backend", "PIL"]
LIBFUZZER_FLAGS = ["-rss_limit_mb=4096", "-timeout=60", "-max_len=65536", "-print_final_stats=1"]


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], prog="python -m fuzz.deep")
    parser.add_argument("--seconds", type=int, default=300, help="time budget, split over the targets (default 300)")
    parser.add_argument("--targets", nargs="+", choices=sorted(TARGETS), default=sorted(TARGETS),
                        help="entry points to fuzz (default: all)")
    parser.add_argument("--child", choices=sorted(TARGETS), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    return parser


def write_corpus(folder: Path) -> None:
    """The seed files (not the multipart bodies: the targets take a file's bytes) as the starting corpus."""
    from .seeds import all_seeds

    folder.mkdir(parents=True, exist_ok=True)
    for seed in all_seeds():
        if not seed.multipart:
            (folder / seed.name).write_bytes(seed.data)


def fuzz_one(target: str, seconds: int, corpus: Path) -> None:
    """Run libFuzzer on one target in this process (never returns)."""
    import atheris

    warnings.simplefilter("ignore")  # Pillow warns on every corrupt EXIF block
    logging.disable(logging.CRITICAL)
    with atheris.instrument_imports(include=INSTRUMENTED):
        from .targets import run_target, server_config

        server_config()
    artifacts = REGRESSIONS / target
    artifacts.mkdir(parents=True, exist_ok=True)
    atheris.Setup([sys.argv[0], f"-max_total_time={seconds}", f"-artifact_prefix={artifacts}/", *LIBFUZZER_FLAGS,
                   str(corpus)], lambda data: run_target(target, data))
    atheris.Fuzz()


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    if args.child:
        fuzz_one(args.child, args.seconds, args.corpus)
    share = max(10, args.seconds // len(args.targets))
    before = {path for path in REGRESSIONS.rglob("*") if path.is_file()}
    codes = {}
    with tempfile.TemporaryDirectory(prefix="fuzz-deep-") as folder:
        for target in args.targets:
            corpus = Path(folder) / target
            write_corpus(corpus)
            print(f"fuzzing {target} for {share} s", flush=True)
            codes[target] = subprocess.run([sys.executable, "-m", "fuzz.deep", "--child", target, "--seconds",
                                            str(share), "--corpus", str(corpus)]).returncode
    found = sorted({path for path in REGRESSIONS.rglob("*") if path.is_file()} - before)
    print("\n" + "\n".join(f"{target}: exit {code}" for target, code in codes.items()))
    if found:
        print("new crashes (replayed by tests/pipeline/test_fuzz_regressions.py):\n" +
              "\n".join(f"  {path.relative_to(REGRESSIONS.parent.parent.parent)}" for path in found))
        return 1
    print("no crash")
    return 0 if not any(codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
