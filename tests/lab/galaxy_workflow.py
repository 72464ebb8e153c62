"""Galaxy's tools that need software, through the replica's API as a user runs them: the lab's bioinformatics workflow
(bwa mem, then samtools sort, then samtools flagstat, from the lab's Tool Shed repository pn_bio) and a tool whose
software no image provides. Prints the result as JSON. From the repository root:

  python -m tests.lab.galaxy_workflow URL CA_FILE run DATA_DIR
      upload DATA_DIR/reference.fa and DATA_DIR/reads.fastq (tests.lab.bio_data), import the workflow, invoke it, wait
      for its jobs, and save its outputs in DATA_DIR/galaxy/ (alignments.sam, sorted.bam, counts.txt); print each
      step's job: tool, state, runner (the endpoint), the job's id there, and its stderr when it failed
  python -m tests.lab.galaxy_workflow URL CA_FILE refused DATA_DIR
      run pn_fastqc (software no image provides) and pn_seqtk_seq (its own container, from a registry the network
      does not use) on DATA_DIR/reads.fastq and print each job's state and the reason Galaxy gave the user
The admin API key comes from the environment (GALAXY_API_KEY), never the command line.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tests.lab.galaxy_job import galaxy, state

REPOSITORY = "pn_bio"
# The workflow's steps, by label, and the file each one's output is saved as.
OUTPUTS = {"alignments": "alignments.sam", "sorted": "sorted.bam", "counts": "counts.txt"}
# paused: a step whose input failed, which Galaxy does not run.
FINAL = ("ok", "error", "failed_metadata", "deleted", "paused")


def repository_tool(gi, name: str) -> str:
    """The guid of pn_bio's tool NAME as the replica installed it: SHED/repos/OWNER/pn_bio/NAME/VERSION."""
    return next(t["id"] for t in gi.tools.get_tools() if f"/repos/pulsar_network/{REPOSITORY}/{name}/" in t["id"])


def workflow(gi) -> dict:
    """Map, sort, count, in Galaxy's workflow format 2, which Galaxy converts on import."""
    return {"class": "GalaxyWorkflow", "label": "pulsar network: map, sort, count",
            "inputs": {"reference": {"type": "data", "format": "fasta"},
                       "reads": {"type": "data", "format": "fastqsanger"}},
            "outputs": {label: {"outputSource": f"{label}/output"} for label in OUTPUTS},
            "steps": {
                "alignments": {"tool_id": repository_tool(gi, "pn_bwa_mem"),
                               "in": {"reference": "reference", "reads": "reads"}},
                "sorted": {"tool_id": repository_tool(gi, "pn_samtools_sort"), "in": {"input": "alignments/output"}},
                "counts": {"tool_id": repository_tool(gi, "pn_samtools_flagstat"), "in": {"input": "sorted/output"}},
            }}


def upload(gi, history: str, path: Path, ext: str) -> str:
    """Put PATH into HISTORY with Galaxy's data fetch API, as ext; return the dataset's id once it is ready."""
    answer = gi.make_post_request(f"{gi.url}/tools/fetch", payload={"history_id": history, "targets": [{
        "destination": {"type": "hdas"},
        "elements": [{"src": "pasted", "paste_content": path.read_text(), "ext": ext, "name": path.name}]}]})
    dataset = answer["outputs"][0]["id"]
    gi.datasets.wait_for_dataset(dataset, maxwait=300)
    return dataset


def finished(gi, ids: dict, timeout: float) -> dict:
    """The job's state once its output is final (galaxy_job.state). When it did not end ok, also what the user reads
    in the history (the output's info) and the end of the tool's stderr."""
    deadline = time.monotonic() + timeout
    now = state(gi, ids)
    while now["output_state"] not in FINAL and time.monotonic() < deadline:
        time.sleep(2)
        now = state(gi, ids)
    if now["job_state"] != "ok":
        job = gi.jobs.show_job(ids["job"], full_details=True)
        now.update(reason=gi.datasets.show_dataset(ids["output"]).get("misc_info"),
                   stderr=(job.get("tool_stderr") or "")[-2000:])
    return now


def run(gi, data_dir: Path, timeout: float = 900) -> dict:
    history = gi.histories.create_history("pulsar network workflow")["id"]
    inputs = {"reference": upload(gi, history, data_dir / "reference.fa", "fasta"),
              "reads": upload(gi, history, data_dir / "reads.fastq", "fastqsanger")}
    workflow_id = gi.workflows.import_workflow_dict(workflow(gi))["id"]
    started = time.monotonic()
    invocation = gi.workflows.invoke_workflow(
        workflow_id, inputs={label: {"src": "hda", "id": dataset} for label, dataset in inputs.items()},
        history_id=history, inputs_by="name")
    invocation = gi.invocations.wait_for_invocation(invocation["id"], maxwait=timeout)
    steps = {step.get("workflow_step_label"): step for step in invocation["steps"]}
    outputs = {label: output["id"] for label, output in invocation["outputs"].items()}
    jobs = {}
    for label in OUTPUTS:
        ids = {"history": history, "job": steps[label]["job_id"], "output": outputs[label]}
        jobs[label] = finished(gi, ids, timeout)
        jobs[label]["tool_id"] = gi.jobs.show_job(ids["job"])["tool_id"]
    saved = data_dir / "galaxy"
    saved.mkdir(exist_ok=True)
    for label, name in OUTPUTS.items():
        if jobs[label]["output_state"] == "ok":
            gi.datasets.download_dataset(outputs[label], file_path=str(saved / name), use_default_filename=False)
    return {"invocation_state": invocation["state"], "wall_s": round(time.monotonic() - started, 1), "jobs": jobs,
            "saved": str(saved)}


REFUSED = ("pn_fastqc", "pn_seqtk_seq")


def refused(gi, data_dir: Path, timeout: float = 300) -> dict:
    history = gi.histories.create_history("pulsar network refused tools")["id"]
    reads = upload(gi, history, data_dir / "reads.fastq", "fastqsanger")
    jobs = {}
    for name in REFUSED:
        tool_id = repository_tool(gi, name)
        answer = gi.tools.run_tool(history, tool_id, {"reads": {"src": "hda", "id": reads}})
        ids = {"history": history, "job": answer["jobs"][0]["id"], "output": answer["outputs"][0]["id"]}
        jobs[name] = {**finished(gi, ids, timeout), "tool_id": tool_id}
    return jobs


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.lab.galaxy_workflow", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("ca_file")
    parser.add_argument("action", choices=("run", "refused"))
    parser.add_argument("data_dir", type=Path)
    args = parser.parse_args(argv)
    gi = galaxy(args.url, args.ca_file)
    print(json.dumps({"run": run, "refused": refused}[args.action](gi, args.data_dir)))


if __name__ == "__main__":
    main()
