"""Pool summaries from plain ads: what condor_status would count, without double counting partitionable slots."""
import pytest

from ansible_collections.esg.pulsar_network.plugins.module_utils import htcondor_pool as hp
from ansible_collections.esg.pulsar_network.plugins.module_utils import htcondor_pool_metrics as hpm
from ansible_collections.esg.pulsar_network.plugins.module_utils import htcondor_pool_summary as hps

NOW = 1_800_000_000


def partitionable(machine, cpus, memory, free_cpus, free_memory, gpus=0, free_gpus=0):
    return {"Machine": machine, "Name": f"slot1@{machine}", "SlotType": "Partitionable", "State": "Unclaimed",
            "Activity": "Idle", "Cpus": free_cpus, "Memory": free_memory, "GPUs": free_gpus,
            "TotalSlotCpus": cpus, "TotalSlotMemory": memory, "TotalSlotGPUs": gpus,
            "Arch": "X86_64", "OpSys": "LINUX", "CondorVersion": "$CondorVersion: 23.9.6 2026-07-12 $",
            "MyAddress": "<10.89.0.7:9618?addrs=10.89.0.7-9618&alias=wn1>"}


def dynamic(machine, n, cpus, memory, gpus=0, state="Claimed", activity="Busy"):
    return {"Machine": machine, "Name": f"slot1_{n}@{machine}", "SlotType": "Dynamic", "State": state,
            "Activity": activity, "Cpus": cpus, "Memory": memory, "GPUs": gpus}


def static(machine, n, cpus, memory, state="Unclaimed", activity="Idle"):
    return {"Machine": machine, "Name": f"slot{n}@{machine}", "State": state, "Activity": activity,
            "Cpus": cpus, "Memory": memory}


SLOTS = [
    partitionable("wn1", 16, 64000, free_cpus=10, free_memory=52000, gpus=2, free_gpus=1),
    dynamic("wn1", 1, 4, 8000, gpus=1),
    dynamic("wn1", 2, 2, 4000),
    static("wn2", 1, 1, 2000, state="Claimed", activity="Busy"),
    static("wn2", 2, 1, 2000),
]


def test_resources_count_each_cpu_once():
    res = hps.summarise_resources(SLOTS)
    assert res["cpus"] == {"total": 18, "claimed": 7, "unclaimed": 11}
    assert res["memory_mb"] == {"total": 68000, "claimed": 14000, "unclaimed": 54000}
    assert res["gpus"] == {"total": 2, "claimed": 1, "unclaimed": 1}


def test_partitionable_remainder_agrees_with_its_children():
    # What the partitionable slot has left plus what its children hold is what it started with.
    p, *children = [s for s in SLOTS if s["Machine"] == "wn1"]
    assert p["Cpus"] + sum(c["Cpus"] for c in children) == p["TotalSlotCpus"]
    assert hps.summarise_resources([p, *children])["cpus"]["unclaimed"] == p["Cpus"]


def test_unclaimed_dynamic_slot_is_not_claimed():
    slots = [partitionable("wn1", 4, 4000, 2, 2000), dynamic("wn1", 1, 2, 2000, state="Unclaimed", activity="Idle")]
    assert hps.summarise_resources(slots)["cpus"] == {"total": 4, "claimed": 0, "unclaimed": 4}


def test_slot_counts_by_state_activity_and_type():
    slots = hps.summarise_slots(SLOTS)
    assert slots["total"] == 5
    assert slots["by_state"] == {"Unclaimed": 2, "Claimed": 3}
    assert slots["by_state_activity"] == {"Unclaimed/Idle": 2, "Claimed/Busy": 3}
    assert slots["by_type"] == {"Partitionable": 1, "Dynamic": 2, "Static": 2}
    assert (slots["busy"], slots["idle"]) == (3, 2)


def test_machines_summary_for_the_inventory():
    machines = hps.summarise_machines(SLOTS)
    assert sorted(machines) == ["wn1", "wn2"]
    wn1 = machines["wn1"]
    assert (wn1["cpus"], wn1["memory_mb"], wn1["gpus"]) == (16, 64000, 2)
    assert wn1["claimed"] == {"cpus": 6, "memory_mb": 12000, "gpus": 1}
    assert wn1["slots"] == {"Unclaimed": 1, "Claimed": 2}
    assert (wn1["arch"], wn1["opsys"], wn1["condor_version"], wn1["address"]) == ("X86_64", "LINUX", "23.9.6", "10.89.0.7")
    assert machines["wn2"]["cpus"] == 2


@pytest.mark.parametrize("address, host", [
    ("<10.0.0.5:9618?addrs=10.0.0.5-9618>", "10.0.0.5"),
    ("<[2001:db8::1]:9618>", "2001:db8::1"),
    ("<cm.example.org:9618>", "cm.example.org"),
    (None, None),
    ("garbage", None),
])
def test_address_host(address, host):
    assert hps.address_host(address) == host


@pytest.mark.parametrize("collector, expected", [
    ("cm", ("cm", 9618)),
    ("cm.example.org:9619", ("cm.example.org", 9619)),
    ("10.0.0.5", ("10.0.0.5", 9618)),
    ("[2001:db8::1]:9620", ("2001:db8::1", 9620)),
    (None, None),
    ("", None),
])
def test_split_collector(collector, expected):
    assert hp.split_collector(collector) == expected


@pytest.mark.parametrize("collector", ["cm:port", "a b", "cm:0", "cm:70000", "cm:9618:1"])
def test_split_collector_refuses_bad_addresses(collector):
    with pytest.raises(hp.PoolQueryError, match=collector.split(":")[0]):
        hp.split_collector(collector)


def pool(slots=None, negotiator=True, schedds=None, heard=NOW - 5):
    slots = SLOTS if slots is None else slots
    schedds = [{"Name": "head", "Machine": "head", "LastHeardFrom": heard,
                "TotalIdleJobs": 3, "TotalRunningJobs": 3, "TotalHeldJobs": 1}] if schedds is None else schedds
    negotiators = [{"Name": "cm", "Machine": "cm", "LastHeardFrom": heard, "LastNegotiationCycleDuration0": 0.2,
                    "LastNegotiationCycleMatches0": 2, "LastNegotiationCycleRejections0": 1,
                    "LastNegotiationCycleEnd0": NOW - 3}] if negotiator else []
    return {"slots": slots, "daemons": {
        "collector": [{"Name": "cm", "Machine": "cm", "CollectorName": "lab pool"}],
        "negotiator": negotiators, "schedd": schedds, "master": [{"Name": "cm", "Machine": "cm", "LastHeardFrom": heard}]}}


def test_healthy_pool():
    summary = hps.summarise_pool(pool(), NOW)
    assert summary["pool_name"] == "lab pool"
    assert summary["jobs"]["total"] == {"idle": 3, "running": 3, "held": 1}
    assert summary["negotiator"] == {"name": "cm", "cycle_duration_seconds": 0.2, "matches": 2, "rejections": 1,
                                     "cycle_age_seconds": 3}
    assert summary["daemons"]["schedd"] == [{"name": "head", "machine": "head", "age_seconds": 5}]
    assert hps.verdict(summary, expected_schedds=["head"], expected_execute_nodes=["wn1", "wn2"]) == ("healthy", [])


@pytest.mark.parametrize("change, options, reason", [
    (dict(negotiator=False), {}, "no negotiator"),
    (dict(slots=[]), {}, "no execute slots"),
    (dict(schedds=[]), {}, "no schedd"),
    (dict(heard=NOW - 1000), {}, "schedd head not heard from in 1000 s (limit 900 s)"),
    (dict(heard=NOW - 100), {"max_ad_age": 60}, "negotiator cm not heard from in 100 s"),
    ({}, {"expected_execute_nodes": ["wn3"]}, "expected execute node wn3 is missing"),
    ({}, {"expected_schedds": ["head2"]}, "expected schedd head2 is missing"),
    (dict(schedds=[{"Name": "head", "Machine": "head", "LastHeardFrom": NOW, "TotalIdleJobs": 0,
                    "TotalRunningJobs": 0, "TotalHeldJobs": 4}]), {}, "all 4 jobs are held"),
])
def test_degraded_pool_says_why(change, options, reason):
    health, reasons = hps.verdict(hps.summarise_pool(pool(**change), NOW), **options)
    assert health == "degraded"
    assert any(reason in r for r in reasons), reasons


def test_unreachable_collector_is_down():
    assert hps.verdict({"collector_reachable": False, "error": "collector cm:9618 is unreachable: refused"}) == (
        "down", ["collector cm:9618 is unreachable: refused"])


def test_influx_line():
    line = hpm.influx_lines(hps.summarise_pool(pool(), NOW), "lab pool", 123)
    assert line.startswith("htcondor_cluster_usage,pool=lab\\ pool cpus_total=18i,cpus_claimed=7i,cpus_unclaimed=11i,")
    assert "slots_busy=3i,slots_idle=2i" in line
    assert line.endswith(" 123\n")


def test_prometheus_text():
    text = hpm.prometheus_text(hps.summarise_pool(pool(), NOW), 'lab "pool"', "healthy")
    assert 'htcondor_pool_up{pool="lab \\"pool\\""} 1' in text
    assert 'htcondor_pool_cpus{pool="lab \\"pool\\"",state="claimed"} 7' in text
    assert 'htcondor_pool_jobs{pool="lab \\"pool\\"",schedd="head",status="held"} 1' in text
    assert "# TYPE htcondor_pool_slots gauge" in text


def test_prometheus_text_when_down_has_only_up_and_health():
    text = hpm.prometheus_text({"collector_reachable": False}, "p", "down")
    assert 'htcondor_pool_up{pool="p"} 0' in text
    assert "htcondor_pool_cpus" not in text


def test_token_and_token_file_are_exclusive(tmp_path):
    token_file = tmp_path / "t"
    token_file.write_text("file-token\n")
    assert hp.read_token(None, str(token_file)) == "file-token"
    assert hp.read_token(" inline ", None) == "inline"
    with pytest.raises(hp.PoolQueryError, match="give token or token_file, not both"):
        hp.read_token("inline", str(token_file))


def test_routing_summary_gives_the_free_resources_and_downs_only_what_stops_every_job():
    summary = hps.routing_summary(hps.summarise_pool(pool(), NOW))
    assert (summary["state"], summary["free"], summary["total"]) == (
        "up", {"cpus": 11, "memory_mb": 54000, "gpus": 1},
        {"cpus": 18, "memory_mb": 68000, "gpus": 2})
    for change in (dict(negotiator=False), dict(slots=[]), dict(schedds=[])):
        assert hps.routing_summary(hps.summarise_pool(pool(**change), NOW))["state"] == "down", change
    held = dict(schedds=[{"Name": "head", "Machine": "head", "LastHeardFrom": NOW, "TotalIdleJobs": 0,
                          "TotalRunningJobs": 0, "TotalHeldJobs": 4}])
    assert hps.routing_summary(hps.summarise_pool(pool(**held), NOW))["state"] == "degraded"
    assert hps.routing_summary({"collector_reachable": False, "error": "refused"})["state"] == "down"


def test_read_local_pool_asks_condor_status_for_each_kind_of_ad(tmp_path):
    fake = tmp_path / "condor_status"
    fake.write_text('#!/bin/sh\necho "$@" >> "$0.calls"\n'
                    'case "$1" in -slots) echo \'[{"Name": "slot1@wn1", "SlotType": "Partitionable", "Cpus": 2, '
                    '"TotalSlotCpus": 2}]\';; -schedd) echo \'[{"Name": "head"}]\';; *) ;; esac\n')
    fake.chmod(0o755)
    read = hp.read_local_pool(str(fake))
    assert read["slots"] == [{"Name": "slot1@wn1", "SlotType": "Partitionable", "Cpus": 2, "TotalSlotCpus": 2}]
    assert read["daemons"]["schedd"] == [{"Name": "head"}] and read["daemons"]["negotiator"] == []
    calls = (tmp_path / "condor_status.calls").read_text().splitlines()
    assert [call.split()[:2] for call in calls] == [["-slots", "-json"], ["-collector", "-json"], ["-negotiator", "-json"],
                                                    ["-schedd", "-json"], ["-master", "-json"]]


def test_read_local_pool_names_condor_status_failures(tmp_path):
    fake = tmp_path / "condor_status"
    fake.write_text('#!/bin/sh\necho "Error: communication error" >&2\necho "CEDAR:6001:Failed to connect" >&2\nexit 1\n')
    fake.chmod(0o755)
    with pytest.raises(hp.PoolQueryError, match="condor_status -slots failed: CEDAR:6001:Failed to connect$"):
        hp.read_local_pool(str(fake))
    with pytest.raises(hp.PoolQueryError, match="missing -slots failed: .*No such file"):
        hp.read_local_pool(str(tmp_path / "missing"))


@pytest.mark.parametrize("output, code, expected", [
    ("1800000000\n", 0, 1_800_000_000.0), ("", 0, None), ("undefined\n", 0, None), ("1800000000\n", 1, None),
])
def test_last_completion_reads_the_schedds_history(tmp_path, output, code, expected):
    fake = tmp_path / "condor_history"
    fake.write_text(f"#!/bin/sh\nprintf '{output}'\nexit {code}\n")
    fake.chmod(0o755)
    assert hp.last_completion(str(fake)) == expected
    assert hp.last_completion(str(tmp_path / "missing")) is None
