"""The fault matrix's report: each row's result (Row) and the Markdown table docs/reliability.md shows, with the
evidence and the known upstream failures below it; printed, and written with the raw results as JSON. No lab here:
the functions are pure but for write()."""
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Row:
    fault: str
    stage: str
    expected: str  # "complete" or "clear failure"
    jobs: list = field(default_factory=list)  # the jobs in flight, as galaxy_job.wait reports them
    runs: list = field(default_factory=list)  # their HTCondor history
    cause: str = ""  # for an expected failure: what Galaxy's job info must name
    known_issue: str = ""  # an upstream bug that keeps the row from its expectation: reported, not counted as a pass
    evidence: str = ""  # how the row knows the fault hit the stage it names
    fault_end: float = 0.0
    recovery_s: float | None = None
    lost: int = 0
    passed: bool = False
    problem: str = ""

    @property
    def verdict(self) -> str:
        """pass, known upstream failure (the bug's, not counted as a pass, not failing the matrix) or FAIL."""
        return "pass" if self.passed else "known upstream failure" if self.known_issue else "FAIL"


def row_table(rows: list[Row]) -> str:
    lines = ["| fault | in flight when | expected | Galaxy (job table) | HTCondor (condor_history) | recovery | lost | result |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        galaxy = ", ".join(job["table_state"] for job in row.jobs) or "-"
        condor = "; ".join(f"exit {r['exit_code']}, {r['starts']} start(s) on {r['host'].split('@')[-1]}"
                           if r else "no run" for r in row.runs) or "-"
        recovery = f"{row.recovery_s} s" if row.recovery_s is not None else "-"
        result = {"FAIL": f"FAIL: {row.problem}", "known upstream failure": "known upstream failure (below)"}.get(row.verdict, "pass")
        if row.known_issue and row.passed:  # the bug and what happened go below the table, which stays readable
            result = "pass, although an upstream failure was expected (below)"
        lines.append(f"| {row.fault} | {row.stage} | {row.expected} | {galaxy} | {condor} | {recovery} | {row.lost} | {result} |")
    lines += ["", "How each row knows its fault hit the stage it names:", ""]
    lines += [f"{number}. {row.fault}: {row.evidence or '-'}" for number, row in enumerate(rows, 1)]
    known = [row for row in rows if row.known_issue]
    if known:
        lines += ["", "Known upstream failures:", ""]
        lines += [f"- {row.fault}: {row.known_issue}. What happened: {row.problem or 'the row passed'}" for row in known]
    return "\n".join(lines)


def report(rows: list[Row], unfinished: int) -> str:
    """The table and, below it, the jobs left unfinished in Galaxy's job table after the matrix."""
    return row_table(rows) + f"\nJobs unfinished in Galaxy's job table after the matrix (lost): {unfinished}"


def exit_status(rows: list[Row], unfinished: int) -> int:
    """0 when every row met its expectation (or failed only as its known upstream bug does) and no job was lost."""
    return 0 if all(row.verdict != "FAIL" for row in rows) and unfinished == 0 else 1


def write(rows: list[Row], unfinished: int, out: str) -> int:
    """Print the report, write it to OUT and the raw results beside it (OUT with .json); return the exit status."""
    text = report(rows, unfinished)
    print(text)
    Path(out).write_text(text + "\n")
    Path(out).with_suffix(".json").write_text(json.dumps([row.__dict__ for row in rows], indent=2, default=str))
    return exit_status(rows, unfinished)
