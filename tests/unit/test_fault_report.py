"""The fault matrix's report (tests/lab/fault_report.py), the table docs/reliability.md shows, and the rows' names the
network scenario's FAULT_MATRIX_ROWS picks from: without the lab."""
import json

import pytest

from tests.lab import fault_matrix, fault_report, fault_rows, galaxy_job
from tests.lab.fault_report import Row

HEADER = ("| fault | in flight when | expected | Galaxy (job table) | HTCondor (condor_history) | recovery | lost | result |\n"
          "|---|---|---|---|---|---|---|---|")
RUN = {"cluster": "8", "exit_code": "0", "starts": "2", "host": "slot1@net-exec"}


def passed() -> Row:
    return Row("execute node lost (container stopped)", "job running on it", "complete", jobs=[{"table_state": "ok"}],
               runs=[RUN], evidence="idle again in condor_q while the node was away: 8", recovery_s=42.3, passed=True)


def known() -> Row:
    return Row("staging disk full on the endpoint", "job starting", "clear failure", jobs=[{"table_state": "error"}],
               runs=[{}], known_issue="pulsar-app reports no message", recovery_s=13.3, problem="job 1: no clear failure")


def failed() -> Row:
    """A row that could not be staged, as the runner records it: no jobs, no runs, no evidence."""
    return Row("broker_restart", "-", "-", problem="TimeoutError: gave up")


def test_verdicts():
    assert [row.verdict for row in (passed(), known(), failed())] == ["pass", "known upstream failure", "FAIL"]


def test_the_table_the_evidence_and_the_known_failures():
    assert fault_report.row_table([passed(), known(), failed()]) == "\n".join([
        HEADER,
        "| execute node lost (container stopped) | job running on it | complete | ok | exit 0, 2 start(s) on net-exec "
        "| 42.3 s | 0 | pass |",
        "| staging disk full on the endpoint | job starting | clear failure | error | no run | 13.3 s | 0 "
        "| known upstream failure (below) |",
        "| broker_restart | - | - | - | - | - | 0 | FAIL: TimeoutError: gave up |",
        "",
        "How each row knows its fault hit the stage it names:",
        "",
        "1. execute node lost (container stopped): idle again in condor_q while the node was away: 8",
        "2. staging disk full on the endpoint: -",
        "3. broker_restart: -",
        "",
        "Known upstream failures:",
        "",
        "- staging disk full on the endpoint: pulsar-app reports no message. What happened: job 1: no clear failure",
    ])


def test_a_known_failure_that_passes_says_so():
    row = known()
    row.passed, row.problem = True, ""
    table = fault_report.row_table([row])
    assert "| pass, although an upstream failure was expected (below) |" in table
    assert table.endswith("- staging disk full on the endpoint: pulsar-app reports no message. What happened: the row passed")
    assert "Known upstream failures" not in fault_report.row_table([passed()])


@pytest.mark.parametrize("rows, unfinished, status", [
    ([passed(), known()], 0, 0),
    ([passed(), failed()], 0, 1),
    ([passed()], 1, 1),
])
def test_exit_status(rows, unfinished, status):
    assert fault_report.exit_status(rows, unfinished) == status


def test_write_prints_and_writes_the_report_and_the_raw_results(tmp_path, capsys):
    out = tmp_path / "fault_matrix.md"
    assert fault_report.write([passed(), known()], 0, str(out)) == 0
    text = fault_report.row_table([passed(), known()]) + "\nJobs unfinished in Galaxy's job table after the matrix (lost): 0"
    assert capsys.readouterr().out == text + "\n"
    assert out.read_text() == text + "\n"
    raw = json.loads(out.with_suffix(".json").read_text())
    assert [r["fault"] for r in raw] == ["execute node lost (container stopped)", "staging disk full on the endpoint"]
    assert raw[0]["runs"] == [RUN] and raw[1]["known_issue"] == "pulsar-app reports no message"


def test_the_rows_in_the_order_they_run():
    assert list(fault_rows.ROWS) == [
        "broker_restart", "pulsar_restart_output_upload", "pulsar_restart_staging", "execute_node_lost",
        "central_manager_restart", "galaxy_handler_restart", "galaxy_cut_off", "staging_disk_full",
        "converge_during_job", "broker_down_outbox", "consumer_lost"]


def test_the_command_line(capsys):
    with pytest.raises(SystemExit) as done:
        fault_matrix.main(["--help"])
    assert done.value.code == 0
    assert "python -m tests.lab.fault_matrix" in capsys.readouterr().out


def test_the_ids_of_a_job_as_galaxy_job_prints_them():
    run = {"jobs": [{"id": "j1"}], "outputs": [{"id": "o1"}]}
    assert galaxy_job.job_ids("h1", "d1", run) == {"history": "h1", "input": "d1", "job": "j1", "output": "o1"}
    assert galaxy_job.sleep_inputs("d1", 25, 200) == {"input": {"src": "hda", "id": "d1"}, "seconds": 25, "pad_mb": 200}
