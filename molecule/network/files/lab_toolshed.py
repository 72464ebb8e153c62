"""Publish a repository of tools in the lab's Tool Shed, as a tool developer would, so the replica can install it.

  lab_toolshed.py URL BOOTSTRAP_KEY REPO_DIR NAME SYNOPSIS
      create the owner, a category and the repository NAME, and upload REPO_DIR to it
Idempotent: an existing owner, category or repository is reused; the upload is skipped once the repository has an
installable revision. Prints the repository's owner, name and newest installable revision as JSON.
"""
import io
import json
import sys
import tarfile
from pathlib import Path

import requests

OWNER = {"email": "developer@lab.pulsar-network.test", "username": "pulsar_network", "password": "lab-developer-password"}
CATEGORY = "Lab tools"


def api(url, key, method, path, **kwargs):
    answer = requests.request(method, f"{url}/api/{path}", headers={"x-api-key": key}, timeout=120, **kwargs)
    answer.raise_for_status()
    return answer.json()


def owner_key(url, admin_key):
    users = [u for u in api(url, admin_key, "GET", "users") if u["username"] == OWNER["username"]]
    user = users[0] if users else api(url, admin_key, "POST", "users", json=OWNER)
    return api(url, admin_key, "POST", f"users/{user['id']}/api_key")


def category_id(url, admin_key):
    found = [c for c in api(url, admin_key, "GET", "categories") if c["name"] == CATEGORY]
    category = found[0] if found else api(url, admin_key, "POST", "categories", json={"name": CATEGORY, "description": CATEGORY})
    return category["id"]


def installable_revisions(url, key, name):
    return api(url, key, "GET", "repositories/get_ordered_installable_revisions",
               params={"name": name, "owner": OWNER["username"]})


def publish(url, admin_key, repo_dir, name, synopsis):
    key = owner_key(url, admin_key)
    found = api(url, key, "GET", "repositories", params={"name": name, "owner": OWNER["username"]})
    repository = found[0] if found else api(url, key, "POST", "repositories", json={
        "name": name, "synopsis": synopsis, "type": "unrestricted", "category_ids": [category_id(url, admin_key)]})
    if not installable_revisions(url, key, name):
        tarball = io.BytesIO()
        with tarfile.open(fileobj=tarball, mode="w:gz") as tar:
            for path in sorted(Path(repo_dir).iterdir()):
                tar.add(path, arcname=path.name)
        api(url, key, "POST", f"repositories/{repository['id']}/changeset_revision",
            files={"file": ("repo.tar.gz", tarball.getvalue())}, data={"commit_message": f"Publish {name}"})
    return {"owner": OWNER["username"], "name": name, "revision": installable_revisions(url, key, name)[-1]}


def main():
    url, bootstrap_key, repo_dir, name, synopsis = sys.argv[1:6]
    print(json.dumps(publish(url.rstrip("/"), bootstrap_key, repo_dir, name, synopsis)))


if __name__ == "__main__":
    main()
