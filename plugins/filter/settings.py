# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""setting_problems: the roles' one check against configuration injection; the rules live in module_utils/settings.py."""

from __future__ import annotations

from ansible_collections.esg.pulsar_network.plugins.module_utils.settings import setting_problems


class FilterModule:
    def filters(self):
        return {"setting_problems": setting_problems}
