"""Benchmark the lab's two ways to reach a container: the podman connection, and SSH with pipelining and
ControlPersist through `podman exec -i NAME /usr/sbin/sshd -i` (what molecule uses, .config/molecule/config.yml).

Starts one container from the lab image, runs the same playbook (N `command` tasks and N `file` tasks that change
nothing) over each connection, prints the wall times and the ratio, and removes the container.
`make bench-lab-connection` runs it.
"""
import argparse
import json
import os
import pathlib
import subprocess
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.command: "true"
      changed_when: false
      loop: "{{ range(n | int) | list }}"
    - ansible.builtin.file: {path: /etc/hostname, state: file}
      loop: "{{ range(n | int) | list }}"
"""
SSH_ARGS = ('-o ProxyCommand="podman exec -i %h /usr/sbin/sshd -i" -o StrictHostKeyChecking=no '
            "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR")


def run(playbook, name, tasks, connection_vars):
    inventory = f"{name} " + " ".join(f"{key}='{value}'" for key, value in connection_vars.items())
    with tempfile.NamedTemporaryFile("w", suffix=".ini") as handle:
        handle.write(f"[lab]\n{inventory}\n")
        handle.flush()
        start = time.monotonic()
        subprocess.run(["ansible-playbook", "-i", handle.name, playbook, "-e", f"n={tasks}"], check=True,
                       stdout=subprocess.DEVNULL, env=dict(os.environ, ANSIBLE_PIPELINING="true"))
        return round(time.monotonic() - start, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=30, help="tasks of each kind (default 30)")
    parser.add_argument("--image", default="localhost/pulsar-network-lab:trixie")
    args = parser.parse_args()
    name = "pn-bench-connection"
    subprocess.run(["podman", "rm", "-f", name], check=False, capture_output=True)
    subprocess.run(["podman", "run", "-d", "--name", name, "--systemd=always", args.image, "/sbin/init"],
                   check=True, stdout=subprocess.DEVNULL)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as playbook:
            playbook.write(PLAYBOOK)
            playbook.flush()
            common = {"ansible_python_interpreter": "/usr/bin/python3"}
            podman = run(playbook.name, name, args.tasks, common | {"ansible_connection": "containers.podman.podman"})
            ssh = run(playbook.name, name, args.tasks, common | {
                "ansible_connection": "ssh", "ansible_user": "root",
                "ansible_ssh_private_key_file": str(REPO / ".build/lab/ssh/id_ed25519"),
                "ansible_ssh_common_args": SSH_ARGS})
    finally:
        subprocess.run(["podman", "rm", "-f", name], check=False, capture_output=True)
    tasks = 2 * args.tasks
    print(json.dumps({"tasks": tasks, "podman_s": podman, "ssh_s": ssh,
                      "podman_per_task_s": round(podman / tasks, 3), "ssh_per_task_s": round(ssh / tasks, 3),
                      "ssh_to_podman": round(ssh / podman, 2)}, indent=2))


if __name__ == "__main__":
    main()
