# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The names of Pulsar's queues on a broker. Plain functions with no imports beyond the standard library, so that
the Pulsar watchdog can load them in Pulsar's own virtualenv as well as the modules and plugins.
"""

from __future__ import annotations

import re

# Pulsar consumes setup, kill and status (and status_update_ack with acknowledgements on); Galaxy consumes
# status_update. See pulsar/client/amqp_exchange_factory.py and pulsar/messaging/bind_amqp.py.
PULSAR_CONSUMED = ("setup", "kill", "status")
PULSAR_QUEUES = PULSAR_CONSUMED + ("status_update",)


def pulsar_queue_names(manager: str, queues=PULSAR_QUEUES) -> dict:
    """Queue per role for a Pulsar manager: _default_ uses the prefix 'pulsar_', others 'pulsar_<manager>_'."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", manager or ""):
        raise ValueError(f"Pulsar manager name '{manager}' may hold only letters, digits, '_', '.' and '-'")
    prefix = "pulsar_" if manager == "_default_" else f"pulsar_{manager}_"
    return {role: f"{prefix}_{role}" for role in queues}


def manager_from_setup_queue(queue: str) -> str | None:
    """'pulsar_production__setup' -> 'production'; 'pulsar__setup' -> '_default_'; anything else -> None."""
    if queue == "pulsar__setup":
        return "_default_"
    match = re.fullmatch(r"pulsar_(.+)__setup", queue)
    return match.group(1) if match else None
