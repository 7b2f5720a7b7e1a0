"""Send fuzz cases to a running server and count the answers per status and per format; then check the server:
the same workers (none restarted), healthy, nothing in its TMPDIR, no traceback in its log, no upload on disk."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from servers import Server, changed, files_holding, snapshot

from .cases import Case, make_case

DROPPED = 0  # the status counted for a connection that closed (or timed out) without an answer
REQUEST_TIMEOUT_S = 120


@dataclass
class Report:
    """What a run sent and got back."""

    seed: int
    statuses: Counter = field(default_factory=Counter)  # (format, status) -> count
    failures: list[str] = field(default_factory=list)  # one line per 5xx or dropped connection
    markers: list[bytes] = field(default_factory=list)
    sent: int = 0
    seconds: float = 0.0

    def record(self, case: Case, status: int, detail: str) -> None:
        """Count one answer; keep a line for each that fails the run."""
        self.statuses[case.format, status] += 1
        self.sent += 1
        if case.marker:
            self.markers.append(case.marker)
        if status >= 500 or status == DROPPED:
            self.failures.append(f"{status}: {case.describe()}: {detail[:300]}")

    def by_status(self) -> Counter:
        """Count per status."""
        totals = Counter()
        for (_, status), count in self.statuses.items():
            totals[status] += count
        return totals

    def table(self) -> str:
        """Counts per format (rows) and status (columns), as markdown."""
        statuses = sorted(self.by_status())
        formats = sorted({name for name, _ in self.statuses})
        lines = ["| format | " + " | ".join(str(s) for s in statuses) + " | total |",
                 "|---|" + "---|" * (len(statuses) + 1)]
        for name in formats:
            row = [self.statuses[name, status] for status in statuses]
            lines.append(f"| {name} | " + " | ".join(str(n) for n in row) + f" | {sum(row)} |")
        totals = self.by_status()
        lines.append("| **all** | " + " | ".join(f"**{totals[s]}**" for s in statuses) + f" | **{self.sent}** |")
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: cases, time, counts per status."""
        counts = ", ".join(f"{status or 'dropped'}: {count}" for status, count in sorted(self.by_status().items()))
        return (f"{self.sent} cases (seed {self.seed}) in {self.seconds:.0f} s ({self.sent / max(self.seconds, 1e-9):.1f}"
                f"/s); {counts}; failures: {len(self.failures)}")


def send(session: requests.Session, base: str, case: Case) -> tuple[int, str]:
    """POST one case; (status, problem detail or error), status DROPPED when no answer came."""
    try:
        response = session.post(base + case.path, data=case.body, headers=case.headers, timeout=REQUEST_TIMEOUT_S)
    except requests.RequestException as error:
        session.close()  # a fresh connection for the next case
        return DROPPED, f"{error.__class__.__name__}: {error}"
    return response.status_code, response.text if response.status_code >= 500 else ""


def run_cases(base: str, seed: int, count: int, concurrency: int = 4, deadline_s: float | None = None,
              first: int = 0, progress_every: int = 0) -> Report:
    """Cases first..first+count-1 of run `seed`, `concurrency` at a time; no new case starts after deadline_s."""
    report, lock = Report(seed), threading.Lock()
    indices = iter(range(first, first + count))
    started = time.perf_counter()

    def worker() -> None:
        with requests.Session() as session:
            while deadline_s is None or time.perf_counter() - started < deadline_s:
                with lock:
                    index = next(indices, None)
                if index is None:
                    return
                case = make_case(seed, index)
                status, detail = send(session, base, case)
                with lock:
                    report.record(case, status, detail)
                    if progress_every and report.sent % progress_every == 0:
                        print(f"  {report.sent} sent, {time.perf_counter() - started:.0f} s, "
                              f"{len(report.failures)} failures", flush=True)

    threads = [threading.Thread(target=worker, name=f"fuzz-{n}") for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class ServerWatch:
    """What to compare a server with after a run: its workers and the files on disk before it."""

    server: Server
    watched: list[Path]
    workers: list[int] = field(default_factory=list)
    files: dict[Path, float] = field(default_factory=dict)

    def start(self) -> "ServerWatch":
        """Note the workers and the files now."""
        self.workers = sorted(self.server.workers())
        self.files = {path: mtime for folder in self.watched for path, mtime in snapshot(folder).items()}
        return self

    def problems(self, report: Report, skip: list[Path] = ()) -> list[str]:
        """Everything wrong with the server after the run (empty when it came through)."""
        found = []
        if self.server.process.poll() is not None:
            found.append(f"gunicorn exited with {self.server.process.returncode}")
        if sorted(self.server.workers()) != self.workers:
            found.append(f"workers restarted: {self.workers} -> {sorted(self.server.workers())}")
        try:
            health = requests.get(f"{self.server.base}/health", timeout=30).status_code
        except requests.RequestException as error:
            health = f"no answer ({error.__class__.__name__})"
        if health != 200:
            found.append(f"/health answered {health}")
        if self.server.tmp_dir and any(self.server.tmp_dir.iterdir()):
            found.append(f"files in the server's TMPDIR: {sorted(self.server.tmp_dir.iterdir())[:5]}")
        log = self.server.log_tail(1 << 40)  # all of it
        if "Traceback" in log:
            at = log.index("Traceback")
            found.append("traceback in the server log:\n" + log[max(0, at - 300):at + 3000])
        after = {path: mtime for folder in self.watched for path, mtime in snapshot(folder).items()}
        written = files_holding(report.markers, changed(self.files, after), skip=[*skip, self.server.log_path])
        if written:
            found.append(f"upload bytes written to disk: {written[:5]}")
        return found


def first_lines(items: list[str], count: int = 20) -> str:
    """The first `count` items, one a line, with how many more there are."""
    return "\n".join(itertools.chain(items[:count], [f"... and {len(items) - count} more"] if len(items) > count else []))
