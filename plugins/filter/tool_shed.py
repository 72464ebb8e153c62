# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""tool_shed_repositories_to_install: which wanted Tool Shed repositories a Galaxy server has not installed yet."""

from __future__ import annotations

import re


def shed_location(url):
    """A Tool Shed as Galaxy records it for installed repositories: host[:port][/path], no scheme, no trailing /."""
    return re.sub(r"^[a-z]+://", "", url.strip()).rstrip("/")


def _satisfies(installed, wanted):
    revision = wanted.get("changeset_revision")
    return (installed.get("status") == "Installed"
            and installed.get("name") == wanted["name"]
            and installed.get("owner") == wanted["owner"]
            and shed_location(installed.get("tool_shed", "")) == shed_location(wanted["tool_shed_url"])
            and (not revision or revision in (installed.get("changeset_revision"),
                                              installed.get("installed_changeset_revision"))))


def repositories_to_install(wanted, installed, default_tool_shed_url):
    """The wanted repositories (name, owner, optional tool_shed_url and changeset_revision) not installed yet,
    each with its tool_shed_url filled in (default_tool_shed_url when it has none), in the order given."""
    missing = []
    for repository in wanted:
        repository = dict(repository, tool_shed_url=(repository.get("tool_shed_url") or default_tool_shed_url).rstrip("/"))
        if not any(_satisfies(candidate, repository) for candidate in installed):
            missing.append(repository)
    return missing


class FilterModule:
    def filters(self):
        return {"tool_shed_repositories_to_install": repositories_to_install}
