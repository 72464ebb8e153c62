"""Benchmark htcondor_pool_info and the htcondor_pool inventory on a large pool.

Injects synthetic startd ads (partitionable slots, each with dynamic children) into the lab collector with
condor_advertise, then times the module (as Ansible runs it) and the inventory (no cache, cold cache, warm
cache), with peak memory of the largest process. Needs the lab pool: `make bench-htcondor-pool` (it runs `make lab` first).
The fake slots advertise the central manager's loopback address and refuse every job (START = false).
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
elapsed = time.perf_counter() - start
if done.returncode:
    sys.exit(done.stderr[-2000:])
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(done.stdout)
"""


def podman(cm, *cmd, stdin=None):
    return subprocess.run(["podman", "exec", "-i", cm, *cmd], input=stdin, check=True, text=True,
                          capture_output=True).stdout


def fake_ads(machines: int, children: int) -> str:
    ads = []
    for m in range(machines):
        name = f"fake-{m:06d}"
        common = (f'MyType = "Machine"\nTargetType = "Job"\nMachine = "{name}"\nArch = "X86_64"\nOpSys = "LINUX"\n'
                  f'CondorVersion = "$CondorVersion: 23.9.6 2026-07-12 $"\nMyAddress = "<127.0.0.1:9618>"\n'
                  f'StartdIpAddr = "<127.0.0.1:9618>"\nRequirements = false\nStart = false\n')
        ads.append(common + f'Name = "slot1@{name}"\nSlotType = "Partitionable"\nState = "Unclaimed"\n'
                   f'Activity = "Idle"\nCpus = {32 - 2 * children}\nMemory = {128000 - 4000 * children}\nGPUs = 0\n'
                   'TotalSlotCpus = 32\nTotalSlotMemory = 128000\nTotalSlotGPUs = 0\n')
        for c in range(1, children + 1):
            ads.append(common + f'Name = "slot1_{c}@{name}"\nSlotType = "Dynamic"\nState = "Claimed"\n'
                       'Activity = "Busy"\nCpus = 2\nMemory = 4000\nGPUs = 0\n')
    return "\n".join(ads) + "\n"


ADVERTISE_ENV = ["env", "_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS=IDTOKENS"]
FAKE = 'regexp("^fake-", Machine)'


def replace_fake_ads(cm: str, machines: int, children: int) -> None:
    podman(cm, *ADVERTISE_ENV, "condor_advertise", "INVALIDATE_STARTD_ADS", "-",
           stdin=f'MyType = "Query"\nTargetType = "Machine"\nRequirements = {FAKE}\n')
    podman(cm, "sh", "-c", "cat > /tmp/fake-ads.txt", stdin=fake_ads(machines, children))
    podman(cm, *ADVERTISE_ENV, "condor_advertise", "-multiple", "UPDATE_STARTD_AD", "/tmp/fake-ads.txt")
    want = machines * (children + 1)
    for _attempt in range(120):
        have = len(podman(cm, "condor_status", "-const", FAKE, "-af", "Name").split())
        if have == want:
            return
        time.sleep(1)
    sys.exit(f"collector holds {have} fake ads, not {want}")


def measure(cmd, env=None) -> tuple[float, int, str]:
    done = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed: {done.stderr}")
    first, _newline, out = done.stdout.partition("\n")
    seconds, maxrss_kb = first.split()
    return float(seconds), int(maxrss_kb) // 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000], help="slot ads to inject")
    parser.add_argument("--children", type=int, default=4, help="dynamic slots per partitionable slot")
    parser.add_argument("--cm", default="pn-lab-head", help="the lab's central manager container")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    collector = subprocess.run(["podman", "inspect", args.cm, "--format",
                                "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"],
                               check=True, capture_output=True, text=True).stdout.strip()
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-htcondor-pool-"))
    source = work / "bench.htcondor_pool.yml"
    cached = work / "cached.htcondor_pool.yml"
    # The pool refuses anonymous reads: read with the central manager's read-only token, as operators do.
    token = work / "pool-reader.token"
    token.touch(mode=0o600)
    token.write_text(podman(args.cm, "cat", "/etc/condor/issued-tokens/pool-reader.token"))
    source.write_text(f"plugin: esg.pulsar_network.htcondor_pool\ncollector: {collector}\ntoken_file: {token}\n")
    cached.write_text(source.read_text() + f"cache: true\ncache_plugin: ansible.builtin.jsonfile\n"
                      f"cache_connection: {work}/cache\ncache_timeout: 3600\n")
    env = dict(os.environ, ANSIBLE_INVENTORY_UNPARSED_FAILED="true")
    module = ["env", "ANSIBLE_LOAD_CALLBACK_PLUGINS=1", "ANSIBLE_STDOUT_CALLBACK=json", "ansible", "localhost",
              "-i", "localhost,", "-c", "local",
              "-e", f"ansible_python_interpreter={sys.executable}", "-m", "esg.pulsar_network.htcondor_pool_info",
              "-a", f"collector={collector} token_file={token}"]

    print(f"collector {collector}; {args.children} dynamic slots per partitionable slot; median of {args.repeat} runs")
    print(f"{'slot ads':>9} {'what':<28} {'seconds':>8} {'peak MB':>8}  check")
    for size in args.sizes:
        machines = size // (args.children + 1)
        replace_fake_ads(args.cm, machines, args.children)
        real_total = podman(args.cm, "condor_status", "-total").split("Total")[-1].split()[0]
        rows = {
            "module (ansible localhost -m)": (module, lambda out: json.loads(out)["plays"][0]["tasks"][0]["hosts"]["localhost"]["slots"]["total"]),
            "inventory, no cache": (["ansible-inventory", "-i", str(source), "--list"], None),
            "inventory, cold cache": (["ansible-inventory", "-i", str(cached), "--list", "--flush-cache"], None),
            "inventory, warm cache": (["ansible-inventory", "-i", str(cached), "--list"], None),
        }
        for what, (cmd, check) in rows.items():
            runs = [measure(cmd, env) for _run in range(args.repeat)]
            seconds = statistics.median(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            out = runs[-1][2]
            if check:
                note = f"slots {check(out)} = condor_status -total {real_total}"
            else:
                hosts = len(json.loads(out).get("htcondor_execute_nodes", {}).get("hosts", []))
                note = f"{hosts} hosts"
            print(f"{machines * (args.children + 1):>9} {what:<28} {seconds:>8.2f} {peak:>8}  {note}")
    podman(args.cm, *ADVERTISE_ENV, "condor_advertise", "INVALIDATE_STARTD_ADS", "-",
           stdin=f'MyType = "Query"\nTargetType = "Machine"\nRequirements = {FAKE}\n')


if __name__ == "__main__":
    main()
