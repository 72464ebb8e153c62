# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """What every inventory plugin of the collection (plugin_utils/cached_inventory.py) shares: its authors and the
    plugin option, to whose choices each plugin adds its own name."""

    DOCUMENTATION = r"""
author:
  - ESG Pulsar Network engineers (@esg-pulsar-network)
options:
  plugin:
    description: The name of this plugin.
    required: true
    type: str
"""
