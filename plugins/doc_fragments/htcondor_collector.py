# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options for reaching an HTCondor pool's collector, shared by modules and inventory plugins."""

    DOCUMENTATION = r"""
options:
  collector:
    description:
      - The pool's collector as C(host) or C(host:port) (port 9618 if omitted).
      - Omitted, the C(COLLECTOR_HOST) of the local HTCondor configuration.
    type: str
  token:
    description:
      - An IDTOKEN to authenticate with. Pools built by the P(esg.pulsar_network.htcondor#role) role refuse
        anonymous reads; their central manager keeps a read-only token in
        C(/etc/condor/issued-tokens/pool-reader.token).
      - When a token is given, authentication is required, so a refused token fails instead of falling back to
        an anonymous query.
      - Mutually exclusive with O(token_file).
    type: str
  token_file:
    description: A file holding the IDTOKEN. Mutually exclusive with O(token).
    type: path
  timeout:
    description: Seconds to wait for the collector to connect and answer.
    type: int
    default: 20
requirements:
  - htcondor >= 24 (the C(htcondor2) Python bindings, on PyPI as C(htcondor))
"""
