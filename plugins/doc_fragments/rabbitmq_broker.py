# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options for reaching a RabbitMQ broker's management API, shared by modules and inventory plugins."""

    DOCUMENTATION = r"""
options:
  management_url:
    description: Base URL of the broker's management API, for example C(https://mq.example.org:15671).
    type: str
  management_user:
    description: A user with the C(monitoring) (or C(administrator)) tag.
    type: str
  management_password:
    description: That user's password.
    type: str
  ca_file:
    description: CA certificate to verify the broker's TLS certificate with; the system's trust store if omitted.
    type: path
  validate_certs:
    description: Verify the broker's TLS certificate and host name.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for the broker to connect and answer.
    type: int
    default: 10
  max_ready:
    description: More ready messages than this on a queue Pulsar consumes make an endpoint C(backlogged), not C(healthy).
    type: int
    default: 10
"""
