#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pulsar_job
short_description: Send a small job to a Pulsar endpoint through the broker and wait for its result
version_added: 0.1.0
description:
  - An end-to-end check of a Pulsar endpoint, done the way Galaxy does it, with Pulsar's own client library.
    It publishes a setup message to the endpoint's manager, Pulsar downloads the inputs, runs the command on its
    cluster, uploads the outputs, and its final status update returns here.
  - Before sending, it checks the manager's queues on the broker. If nothing consumes the setup queue it fails at once
    with the queue verdict (C(stalled) or C(absent), as M(esg.pulsar_network.rabbitmq_queue_info) gives it) rather
    than wait for a job nobody will take.
  - Inputs and outputs travel as Galaxy's do (Pulsar's C(remote_transfer) action). The module serves a small job
    files API on O(files_bind_address) for the time of the job. Pulsar's head must reach it at O(files_url_host),
    so the simplest place to run the module is the Pulsar head itself with O(files_bind_address=127.0.0.1).
  - The job fails the task when it exits non-zero (unless O(expected_exit_code) says otherwise), when Pulsar reports
    it C(failed) or C(lost), when an expected output is missing, or when no final status arrives within O(timeout)
    seconds (the job is then killed).
  - Use a manager that Galaxy does not use (the pulsar role adds C(endpoint_check)), because the client consumes the
    manager's status update queue, and would otherwise take Galaxy's updates.
author:
  - ESG Pulsar Network engineers (@esg-pulsar-network)
options:
  amqp_url:
    description:
      - kombu URL of the endpoint's vhost, as Galaxy's job runner has it, e.g.
        C(pyamqp://site_a:PASSWORD@mq.example.org:5671//pulsar/site_a?ssl=1). Never logged.
    type: str
    required: true
  manager:
    description: Pulsar manager to send the job to.
    type: str
    default: endpoint_check
  jobs_directory:
    description: The endpoint's staging directory for this Galaxy server (Galaxy's C(jobs_directory) destination parameter).
    type: path
    required: true
  command:
    description:
      - Shell command the job runs, in its working directory on an execute node.
      - C({input:NAME}) and C({output:NAME}) stand for the paths of the files named in O(input_files) and O(output_files).
      - Its standard output and error come back in RV(stdout) and RV(stderr).
    type: str
    required: true
  input_files:
    description: Files sent with the job, name to text content. Names take letters, digits, C(_), C(.) and C(-).
    type: dict
    default: {}
  output_files:
    description: Files the job must produce, by name; their text comes back in RV(outputs).
    type: list
    elements: str
    default: []
  expected_exit_code:
    description: Exit code that counts as success.
    type: int
    default: 0
  timeout:
    description: Seconds to wait for the job's final status.
    type: int
    default: 300
  ca_file:
    description: CA certificate to verify the broker's TLS certificate with; the system's trust store if omitted.
    type: path
  validate_certs:
    description:
      - Verify the broker's TLS certificate and that it names the URL's host. Leave on outside a throw-away test;
        without it a man in the middle gets the AMQP password.
    type: bool
    default: true
  require_consumer:
    description: Fail before sending when nothing consumes the manager's setup queue.
    type: bool
    default: true
  files_bind_address:
    description: Address the job files API listens on.
    type: str
    default: 127.0.0.1
  files_port:
    description: Port of the job files API; 0 picks a free one.
    type: int
    default: 0
  files_url_host:
    description: Host name or address Pulsar uses to reach the job files API; O(files_bind_address) if omitted.
    type: str
attributes:
  check_mode:
    support: full
    description: Checks the queues and reports that a job would be sent, without sending it.
  diff_mode:
    support: none
    description: Nothing to show a diff of.
requirements:
  - pulsar-galaxy-lib or pulsar-app (Pulsar's client library) with kombu, as in the pulsar role's virtualenv
notes:
  - On a Pulsar head built by the
    R(esg.pulsar_network.pulsar role,ansible_collections.esg.pulsar_network.pulsar_role), run it with
    C(ansible_python_interpreter=/opt/pulsar/venv/bin/python), which has the client library.
seealso:
  - module: esg.pulsar_network.rabbitmq_queue_info
"""

EXAMPLES = r"""
- name: Send a job through the broker to this endpoint and check its output
  esg.pulsar_network.pulsar_job:
    amqp_url: "{{ vault_galaxy_eu_amqp_url }}"
    ca_file: /etc/pulsar/amqp-ca.crt
    jobs_directory: /srv/pulsar/staging/usegalaxy_eu
    command: "hostname; tr a-z A-Z < {input:greeting.txt} > {output:shout.txt}"
    input_files:
      greeting.txt: "hello from the pulsar network\n"
    output_files: [shout.txt]
    timeout: 600
  vars:
    ansible_python_interpreter: /opt/pulsar/venv/bin/python
  register: check

- name: Show where it ran
  ansible.builtin.debug:
    msg: "{{ check.job_id }} ran on {{ check.stdout | trim }} in {{ check.timings.total_s }} s"
"""

RETURN = r"""
job_id:
  description: The job's id at the endpoint (also its staging directory's name).
  type: str
  returned: when a job was sent
  sample: endpoint-check-3f2a9c1b7d4e
status:
  description: Pulsar's final status (C(complete), C(failed), C(lost) or C(cancelled)).
  type: str
  returned: when the job finished
  sample: complete
exit_code:
  description: The command's exit code.
  type: int
  returned: when the job finished
  sample: 0
stdout:
  description: The command's standard output.
  type: str
  returned: when the job finished
  sample: "pn-lab-exec\n"
stderr:
  description: The command's standard error.
  type: str
  returned: when the job finished
outputs:
  description: Text of each output file, by name.
  type: dict
  returned: when the job finished
  sample: {"shout.txt": "HELLO FROM THE PULSAR NETWORK\n"}
missing_outputs:
  description: Declared output files the job did not produce (the module then fails).
  type: list
  elements: str
  returned: when the job finished
  sample: ["shout.txt"]
timings:
  description:
    - Seconds from sending to the final status (C(total_s)), and, when Pulsar reported the job running, from sending to
      running (C(submitted_to_running_s)) and from running to the end (C(running_to_complete_s)); every status seen, with
      its time.
  type: dict
  returned: when the job finished
  sample: {"total_s": 3.5, "statuses": [{"status": "submitted", "after_s": 0.0}, {"status": "complete", "after_s": 3.5}]}
transfers:
  description: Files Pulsar downloaded (GET) and uploaded (POST) through the job files API, with their sizes.
  type: list
  elements: dict
  returned: when the job finished
verdict:
  description: The manager's queue verdict before sending (C(healthy), C(stalled), C(backlogged), C(absent)).
  type: str
  returned: when the broker was read
  sample: healthy
queues:
  description: Ready messages and consumers of the manager's queues before sending.
  type: dict
  returned: when the broker was read
reasons:
  description: Why the verdict is not C(healthy).
  type: list
  elements: str
  returned: when the broker was read
pulsar_version:
  description: Version of Pulsar at the endpoint.
  type: str
  returned: when the job finished
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.esg.pulsar_network.plugins.module_utils import pulsar_client
from ansible_collections.esg.pulsar_network.plugins.module_utils.amqp import parse_url
from ansible_collections.esg.pulsar_network.plugins.module_utils.broker import BrokerError, queue_figures
from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_names import PULSAR_CONSUMED, pulsar_queue_names
from ansible_collections.esg.pulsar_network.plugins.module_utils.verdict import endpoint_verdict


def check_queues(module, result):
    params = module.params
    roles = pulsar_queue_names(params["manager"], PULSAR_CONSUMED)
    try:
        queues = queue_figures(params["amqp_url"], list(roles.values()), params["ca_file"], params["validate_certs"],
                               timeout=10.0)
    except BrokerError as err:
        module.fail_json(msg=str(err), verdict=err.kind, **result)
    result["queues"] = queues
    judged = endpoint_verdict(queues, roles, max_backlog=10 ** 9)
    result["verdict"], result["reasons"] = judged["verdict"], judged["reasons"]
    if module.params["require_consumer"] and not queues[roles["setup"]]["consumers"]:
        reason = "; ".join(result["reasons"])
        module.fail_json(msg=f"endpoint {result['verdict']}: nothing consumes {roles['setup']} ({reason})", **result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            amqp_url=dict(type="str", required=True, no_log=True),
            manager=dict(type="str", default="endpoint_check"),
            jobs_directory=dict(type="path", required=True),
            command=dict(type="str", required=True),
            input_files=dict(type="dict", default={}),
            output_files=dict(type="list", elements="str", default=[]),
            expected_exit_code=dict(type="int", default=0),
            timeout=dict(type="int", default=300),
            ca_file=dict(type="path"),
            validate_certs=dict(type="bool", default=True),
            require_consumer=dict(type="bool", default=True),
            files_bind_address=dict(type="str", default="127.0.0.1"),
            files_port=dict(type="int", default=0),
            files_url_host=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if pulsar_client.PULSAR_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("pulsar-galaxy-lib (Pulsar's client library) and kombu"),
                         exception=pulsar_client.PULSAR_IMPORT_ERROR)
    inputs = {name: str(content) for name, content in params["input_files"].items()}
    try:
        parse_url(params["amqp_url"])
        pulsar_queue_names(params["manager"])
        pulsar_client.check_file_names(inputs, params["output_files"])
        pulsar_client.render_command(params["command"], dict.fromkeys(inputs, ""), dict.fromkeys(params["output_files"], ""))
    except ValueError as err:
        module.fail_json(msg=str(err))
    if params["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds")

    result = dict(changed=False)
    check_queues(module, result)
    if module.check_mode:
        result.update(changed=True, msg="a job would be sent")
        module.exit_json(**result)

    try:
        job = pulsar_client.run_one(params["amqp_url"], params["manager"], params["jobs_directory"], params["command"],
                                    inputs, params["output_files"], params["timeout"], params["ca_file"],
                                    params["validate_certs"], params["files_bind_address"], params["files_port"],
                                    params["files_url_host"])
    except pulsar_client.JobError as err:
        module.fail_json(msg=f"job {err.kind}: {err}", **result)
    except OSError as err:
        module.fail_json(msg=f"cannot serve the job's files on {params['files_bind_address']}: {err.strerror}", **result)
    result.update(job, changed=True)
    problems = []
    if job["status"] != "complete":
        problems.append(f"Pulsar reports the job {job['status']}")
    if job["exit_code"] != params["expected_exit_code"]:
        problems.append(f"exit code {job['exit_code']}, expected {params['expected_exit_code']}")
    if job["missing_outputs"]:
        problems.append(f"missing outputs: {', '.join(job['missing_outputs'])}")
    if problems:
        stderr_tail = job["stderr"].strip().splitlines()[-1:] or ["(no stderr)"]
        module.fail_json(msg=f"job {job['job_id']} failed: {'; '.join(problems)}; stderr: {stderr_tail[0]}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
