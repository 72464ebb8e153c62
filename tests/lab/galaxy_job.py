"""Run a tool (Galaxy's Concatenate, or pn_tac from the lab's Tool Shed) through the replica's API with bioblend, as a
user would; print the result as JSON. From the repository root:

  python -m tests.lab.galaxy_job URL CA_FILE submit [TOOL]
      upload a dataset and start TOOL on it (cat1, on it twice, by default; pn_tac: the Tool Shed tool; head: Show
      beginning; pn_sleep: 60 s); print the ids
  python -m tests.lab.galaxy_job URL CA_FILE wait IDS
      wait for that job (IDS as printed by submit) and print its state and output
  python -m tests.lab.galaxy_job URL CA_FILE state IDS
      print the job's and output's states now
  python -m tests.lab.galaxy_job URL CA_FILE burst TOOL N
      start N jobs of TOOL at once on one dataset, wait for them all and print each one's result (where it ran: its
      runner), with the wall time
The admin API key comes from the environment (GALAXY_API_KEY), never the command line.
"""
import argparse
import json
import os
import time

from bioblend.galaxy import GalaxyInstance

CONTENT = "pulsar network\n"
TAC_CONTENT = "one\ntwo\nthree\n"


def cat1_inputs(gi, dataset):
    return "cat1", {"input1": {"src": "hda", "id": dataset}, "queries_0|input2": {"src": "hda", "id": dataset}}


def shed_tool(gi, name):
    """The id of the lab Tool Shed's tool NAME: installed from a Tool Shed, a tool's id is its guid,
    SHED/repos/OWNER/REPOSITORY/NAME/VERSION."""
    return next(t["id"] for t in gi.tools.get_tools() if t["id"].endswith(f"/{name}/1.0.0"))


def pn_tac_inputs(gi, dataset):
    return shed_tool(gi, "pn_tac"), {"input": {"src": "hda", "id": dataset}}


def head_inputs(gi, dataset):
    return "Show beginning1", {"input": {"src": "hda", "id": dataset}, "lineNum": 2}


def sleep_inputs(dataset, seconds, pad_mb):
    """pn_sleep's inputs: wait `seconds`, copy the input dataset, append `pad_mb` MiB."""
    return {"input": {"src": "hda", "id": dataset}, "seconds": seconds, "pad_mb": pad_mb}


def pn_sleep_inputs(gi, dataset):
    """A job that runs for a minute: in flight while something else happens."""
    return shed_tool(gi, "pn_sleep"), sleep_inputs(dataset, 60, 0)


TOOLS = {"cat1": (CONTENT, cat1_inputs), "pn_tac": (TAC_CONTENT, pn_tac_inputs), "head": (TAC_CONTENT, head_inputs),
         "pn_sleep": (CONTENT, pn_sleep_inputs)}


def galaxy(url, ca_file):
    gi = GalaxyInstance(url, key=os.environ["GALAXY_API_KEY"])
    gi.verify = ca_file
    return gi


def upload(gi, history, content):
    """Paste `content` into the history as a txt dataset; return its id once Galaxy has it."""
    # Galaxy's data fetch API (the legacy upload1 tool, which bioblend's paste_content uses, is not in the toolbox).
    upload = gi.make_post_request(f"{gi.url}/tools/fetch", payload={"history_id": history, "targets": [{
        "destination": {"type": "hdas"},
        "elements": [{"src": "pasted", "paste_content": content, "ext": "txt", "name": "input.txt"}]}]})
    dataset = upload["outputs"][0]["id"]
    gi.datasets.wait_for_dataset(dataset, maxwait=300)
    return dataset


def job_ids(history, dataset, run):
    """The ids of the job `run` (run_tool's answer) started on `dataset`: as submit prints them, wait reads them."""
    return {"history": history, "input": dataset, "job": run["jobs"][0]["id"], "output": run["outputs"][0]["id"]}


def submit(gi, tool="cat1"):
    content, tool_inputs = TOOLS[tool]
    history = gi.histories.create_history("pulsar network check")["id"]
    dataset = upload(gi, history, content)
    tool_id, inputs = tool_inputs(gi, dataset)
    run = gi.tools.run_tool(history, tool_id, inputs)
    return {**job_ids(history, dataset, run), "tool_id": tool_id}


def state(gi, ids):
    job = gi.jobs.show_job(ids["job"])
    output = gi.datasets.show_dataset(ids["output"])
    # Admin only: the runner (one per Pulsar endpoint), the job's id there, and the Galaxy process that handled it.
    destination = gi.make_get_request(f"{gi.url}/jobs/{ids['job']}/destination_params").json()
    return {"job_state": job["state"], "output_state": output["state"], "runner": destination.get("Runner"),
            "runner_job_id": destination.get("Runner Job ID"), "handler": destination.get("Handler"), **ids}


def wait(gi, ids, timeout=600, fetch=True):
    start = time.monotonic()
    seen = []
    while time.monotonic() - start < timeout:
        now = state(gi, ids)
        if not seen or seen[-1] != now["job_state"]:
            seen.append(now["job_state"])
        if now["output_state"] in ("ok", "error", "failed_metadata"):
            break
        time.sleep(2)
    now.update(states_seen=seen, waited_s=round(time.monotonic() - start, 1),
               content=gi.datasets.download_dataset(ids["output"]).decode() if fetch and now["output_state"] == "ok" else None)
    return now


def burst(gi, tool, count):
    content, tool_inputs = TOOLS[tool]
    history = gi.histories.create_history(f"pulsar network burst of {count}")["id"]
    dataset = upload(gi, history, content)
    tool_id, inputs = tool_inputs(gi, dataset)
    started = time.monotonic()
    runs = [gi.tools.run_tool(history, tool_id, inputs) for _run in range(int(count))]
    jobs = [job_ids(history, dataset, run) for run in runs]
    results = [wait(gi, ids, fetch=False) for ids in jobs]
    return {"jobs": results, "wall_s": round(time.monotonic() - started, 1),
            "runners": {runner: sum(r["runner"] == runner for r in results) for runner in {r["runner"] for r in results}}}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.lab.galaxy_job", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("ca_file")
    parser.add_argument("action", choices=("submit", "wait", "state", "burst"))
    parser.add_argument("args", nargs="*", help="the action's: [TOOL], IDS, IDS or TOOL N")
    args = parser.parse_args(argv)
    gi = galaxy(args.url, args.ca_file)
    ids = json.loads(args.args[0]) if args.action in ("wait", "state") else None
    result = {"submit": lambda: submit(gi, *args.args[:1]), "wait": lambda: wait(gi, ids), "state": lambda: state(gi, ids),
              "burst": lambda: burst(gi, *args.args[:2])}[args.action]()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
