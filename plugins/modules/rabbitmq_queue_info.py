#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rabbitmq_queue_info
short_description: Tell whether a Pulsar endpoint is consuming its RabbitMQ queues
version_added: 0.1.0
description:
  - Connects to the broker with the endpoint's own AMQP URL, with kombu, in the plain form (C(amqps://user:pw@host:5671/%2Fpulsar%2Fsite))
    or in the kombu form Galaxy and Pulsar use (C(pyamqp://user:pw@host:5671//pulsar/site?ssl=1)).
  - For each queue it reports whether it exists, its ready messages and its consumers, with passive declares over one
    connection. A missing queue is C(exists=false), not a failure.
  - Given a Pulsar manager name, it inspects that manager's queues and gives a verdict for the endpoint.
    C(healthy) means setup, kill and status each have a consumer and no more than O(max_ready) ready messages.
    C(stalled) means one of them has no consumer. C(backlogged) means consumers are there but messages pile up.
    C(absent) means the setup queue does not exist (Pulsar never connected).
    C(unreachable) and C(auth_failed) mean the broker could not be read.
  - With O(management_url), adds unacknowledged messages, idle time, publish and deliver rates and the consumers'
    peer addresses from the management API. A management API failure is reported in RV(management_error) and does
    not change the AMQP figures.
  - Read-only. Bad URLs fail with a one-line reason; broker problems are verdicts with reasons.
author:
  - ESG Pulsar Network engineers (@esg-pulsar-network)
extends_documentation_fragment:
  - esg.pulsar_network.rabbitmq_broker
options:
  url:
    description: The endpoint's AMQP URL (plain or kombu form). Never logged.
    type: str
    required: true
  manager:
    description:
      - Pulsar manager whose queues to inspect (C(pulsar_MANAGER__setup), C(__kill), C(__status), C(__status_update));
        C(_default_) for C(pulsar__setup) and so on. Needed for a verdict.
    type: str
  queues:
    description: Further queues to report, by name.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Nothing to show a diff of.
requirements:
  - kombu >= 5.2 (Debian's python3-kombu)
notes:
  - Run it on the controller or any host that reaches the broker and has kombu.
"""

EXAMPLES = r"""
- name: Is the Pulsar endpoint of site_a consuming?
  esg.pulsar_network.rabbitmq_queue_info:
    url: "{{ vault_pulsar_site_a_amqp_url }}"   # pyamqp://site_a:...@mq.example.org:5671//pulsar/site_a?ssl=1
    manager: production
    ca_file: /etc/ssl/certs/pulsar-network-ca.pem
  delegate_to: localhost
  register: site_a

- name: Report
  ansible.builtin.debug:
    msg: "site_a is {{ site_a.verdict }}: {{ site_a.reasons | join('; ') }}"

- name: With the management API's extra figures
  esg.pulsar_network.rabbitmq_queue_info:
    url: "{{ vault_pulsar_site_a_amqp_url }}"
    manager: production
    management_url: https://mq.example.org:15671
    management_user: monitoring
    management_password: "{{ vault_rabbitmq_monitoring_password }}"
"""

RETURN = r"""
endpoint:
  description: Where the module connected, without the password.
  type: dict
  returned: always
  sample: {"host": "mq.example.org", "port": 5671, "vhost": "/pulsar/site_a", "user": "site_a", "tls": true}
verdict:
  description: C(healthy), C(stalled), C(backlogged), C(absent), C(unreachable) or C(auth_failed); null without O(manager)
    unless the broker could not be read.
  type: str
  returned: always
  sample: stalled
reasons:
  description: Why the verdict is not C(healthy).
  type: list
  elements: str
  returned: always
  sample: ["nobody consumes pulsar_production__setup (3 ready)"]
queues:
  description:
    - Per queue C(exists), C(messages_ready) and C(consumers); with the management API also C(messages_unacknowledged),
      C(idle_since), C(publish_rate), C(deliver_rate) and C(consumer_peers).
  type: dict
  returned: when the broker was read
  sample: {"pulsar_production__setup": {"exists": true, "messages_ready": 0, "consumers": 1}}
management:
  description: Whether the management API's figures are included.
  type: bool
  returned: always
management_error:
  description: Why the management API could not be read.
  type: str
  returned: when O(management_url) is set and the API failed
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.esg.pulsar_network.plugins.module_utils import broker, rabbitmq_api
from ansible_collections.esg.pulsar_network.plugins.module_utils.amqp import parse_url
from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_names import PULSAR_CONSUMED, pulsar_queue_names
from ansible_collections.esg.pulsar_network.plugins.module_utils.verdict import endpoint_verdict


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True, no_log=True),
            manager=dict(type="str"),
            queues=dict(type="list", elements="str", default=[]),
            management_url=dict(type="str"),
            management_user=dict(type="str"),
            management_password=dict(type="str", no_log=True),
            ca_file=dict(type="path"),
            validate_certs=dict(type="bool", default=True),
            timeout=dict(type="int", default=10),
            max_ready=dict(type="int", default=10),
        ),
        required_together=[("management_user", "management_password")],
        required_by={"management_url": ("management_user", "management_password")},
        supports_check_mode=True,
    )
    params = module.params
    if broker.KOMBU_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kombu"), exception=broker.KOMBU_IMPORT_ERROR)
    try:
        settings = parse_url(params["url"])
        roles = pulsar_queue_names(params["manager"]) if params["manager"] else {}
    except ValueError as err:
        module.fail_json(msg=str(err))
    if params["timeout"] <= 0 or params["max_ready"] < 0:
        module.fail_json(msg="timeout must be positive and max_ready not negative")

    names = list(dict.fromkeys(list(roles.values()) + params["queues"]))
    result = dict(
        changed=False, management=False, verdict=None, reasons=[],
        endpoint={"host": settings["host"], "port": settings["port"], "vhost": settings["vhost"],
                  "user": settings["username"], "tls": settings["tls"]},
    )
    try:
        queues = broker.queue_figures(params["url"], names, params["ca_file"], params["validate_certs"], params["timeout"])
    except broker.BrokerError as err:
        result.update(verdict=err.kind, reasons=[str(err)])
        module.exit_json(**result)

    if params["management_url"]:
        try:
            api = rabbitmq_api.ManagementApi(params["management_url"], params["management_user"], params["management_password"],
                                             params["ca_file"], params["validate_certs"], params["timeout"])
            details = api.queues(settings["vhost"])
            peers = api.consumer_peers(settings["vhost"])
            for name in names:
                if name in details:
                    extra = {k: v for k, v in details[name].items() if k not in queues[name]}
                    queues[name].update(extra, consumer_peers=peers.get(name, []))
            result["management"] = True
        except broker.BrokerError as err:
            result["management_error"] = str(err)

    result["queues"] = queues
    if roles:
        consumed = {role: roles[role] for role in PULSAR_CONSUMED}
        judged = endpoint_verdict(queues, consumed, max_backlog=params["max_ready"])
        result["verdict"], result["reasons"] = judged["verdict"], judged["reasons"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
