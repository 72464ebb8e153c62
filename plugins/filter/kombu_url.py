# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""kombu_url_without_ssl_flag: the same rule pulsar_job applies, for the roles' app.yml and galaxy.yml templates."""

from __future__ import annotations

from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_job import without_ssl_flag


class FilterModule:
    def filters(self):
        return {"kombu_url_without_ssl_flag": without_ssl_flag}
