# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""weak_secrets: the roles' one secret check; pbkdf2_sha256: a password as the TES service stores it. Both live in
module_utils/secrets.py."""

from __future__ import annotations

from ansible_collections.esg.pulsar_network.plugins.module_utils.secrets import pbkdf2_sha256_hash, weak_secrets


class FilterModule:
    def filters(self):
        return {"weak_secrets": weak_secrets, "pbkdf2_sha256": pbkdf2_sha256_hash}
