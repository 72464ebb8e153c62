# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""weak_secrets: the roles' one secret check; the rule lives in module_utils/secrets.py."""

from __future__ import annotations

from ansible_collections.esg.pulsar_network.plugins.module_utils.secrets import weak_secrets


class FilterModule:
    def filters(self):
        return {"weak_secrets": weak_secrets}
