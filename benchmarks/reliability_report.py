"""Run the reliability tests (tests/reliability, real gunicorn on loopback) and write their results to
docs/RELIABILITY.md.

    python benchmarks/reliability_report.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_utils import REPO_ROOT, machine, machine_line, markdown_table, write_results  # noqa: E402

RELIABILITY_MD = REPO_ROOT / "docs" / "RELIABILITY.md"


def main(argv: list[str] | None = None) -> int:
    """Run pytest with a JUnit report; tabulate every test with its outcome and printed figures."""
    info = machine()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "junit.xml"
        started = time.perf_counter()
        completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                                    "tests/reliability", f"--junitxml={report}", *(argv or [])],
                                   cwd=REPO_ROOT, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        cases = ET.parse(report).getroot().iter("testcase")
        rows = []
        for case in cases:
            outcome = "failed" if case.find("failure") is not None or case.find("error") is not None else (
                "skipped" if case.find("skipped") is not None else "passed")
            rows.append({"test": f"{case.get('classname', '').split('.')[-1]}::{case.get('name')}",
                         "outcome": outcome, "seconds": round(float(case.get("time", 0)), 2)})
    figures = [line for line in completed.stdout.splitlines()
               if re.search(r"requests at concurrency|during the kill", line)]
    print(completed.stdout[-3000:])
    passed = sum(r["outcome"] == "passed" for r in rows)
    table = markdown_table(["test", "outcome", "seconds"], [[r["test"], r["outcome"], r["seconds"]] for r in rows])
    markdown = (f"### Reliability test results\n\n`python benchmarks/reliability_report.py` (runs "
                f"`pytest tests/reliability`)\n\n{machine_line(info)}\n\n**{passed}/{len(rows)} passed in "
                f"{elapsed:.0f} s** (including building the tiny test checkpoint).\n\nFigures printed by the tests:\n\n"
                + "\n".join(f"- {line.strip('. ')}" for line in figures) + f"\n\n{table}\n")
    write_results("reliability", {"machine": info, "seconds": round(elapsed, 1), "rows": rows, "figures": figures},
                  markdown, None, RELIABILITY_MD)
    return completed.returncode


if __name__ == "__main__":
    sys.exit(main())
