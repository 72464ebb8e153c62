#!/usr/bin/env bash
# The built tarball as Galaxy and a provider meet it:
#   1. galaxy-importer accepts it (ansible-test is left to `make sanity`: the importer would pull a container image);
#   2. in a virtualenv with ansible-core alone, installing it without its dependencies leaves playbooks that do not
#      resolve, and installing it with them (offline, from PyPI's ansible package: there is no Galaxy server here)
#      resolves every declared range and every playbook passes --syntax-check;
#   3. ansible-builder finds the collection's Python and system needs (meta/execution-environment.yml) in that install,
#      and renders the execution environment's build context (building the image needs a base image: left to sites).
set -euo pipefail
cd "$(dirname "$0")/.."
build=$PWD/.build/package-check
tarball=$(ls "$PWD"/.build/dist/esg-pulsar_network-*.tar.gz)
core_version=$(.venv/bin/python -c 'import ansible.release; print(ansible.release.__version__)')

source scripts/venv.sh
venv "$build/importer-venv" -r requirements/package-check.txt
venv "$build/core-venv" "ansible-core==$core_version"
venv "$build/builder-venv" -r requirements/ee-builder.txt

config=$build/galaxy-importer.cfg
printf '[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\nCHECK_CHANGELOG = True\n' > "$config"
# Run where the importer's importer_result.json may land: in the build directory, not the work tree.
(cd "$build" && GALAXY_IMPORTER_CONFIG=$config "$build/importer-venv/bin/python" -m galaxy_importer.main "$tarball" \
  > "$build/importer.log" 2>&1) || { cat "$build/importer.log"; exit 1; }
if grep -E '^(WARNING|ERROR)' "$build/importer.log"; then echo "galaxy-importer: not clean (above)"; exit 1; fi
echo "galaxy-importer: $(tail -n1 "$build/importer.log")"

rm -rf "$build/deps" "$build/install" && mkdir -p "$build/deps" "$build/install/home"
installed=$(ls -d .venv/lib/python3*/site-packages/ansible_collections)
for dep in $(.venv/bin/python -c 'import yaml; print(" ".join(yaml.safe_load(open("galaxy.yml"))["dependencies"]))'); do
  .venv/bin/python scripts/repack_installed_collection.py "$installed/${dep/.//}" "$build/deps" > /dev/null
done
export HOME=$build/install/home ANSIBLE_COLLECTIONS_PATH=$build/install/collections
galaxy=$build/core-venv/bin/ansible-galaxy
playbook=$build/core-venv/bin/ansible-playbook
playbooks=$(find playbooks -maxdepth 1 -name '*.yml' -printf '%f\n' | sed 's|\.yml$||' | sort)

"$galaxy" collection install --offline --no-deps "$tarball" > /dev/null
if "$playbook" -i localhost, --syntax-check esg.pulsar_network.site > "$build/no-deps.log" 2>&1; then
  echo "without its dependencies the site playbook still resolved: the test cannot tell"; exit 1
fi
grep -q "couldn't resolve module/action" "$build/no-deps.log"
rm -rf "$ANSIBLE_COLLECTIONS_PATH"

"$galaxy" collection install --offline "$tarball" "$build"/deps/*.tar.gz > /dev/null
for name in $playbooks; do
  "$playbook" -i localhost, --syntax-check "esg.pulsar_network.$name" > /dev/null
done
echo "ansible-core $core_version alone: without dependencies the playbooks do not resolve;" \
     "with $(find "$build/deps" -name '*.tar.gz' | wc -l) dependencies installed offline, $(echo "$playbooks" | wc -w) playbooks pass --syntax-check"

introspected=$("$build/builder-venv/bin/ansible-builder" introspect "$ANSIBLE_COLLECTIONS_PATH")
for wanted in $(grep -v '^#' meta/ee-requirements.txt | cut -d'>' -f1) ca-certificates; do
  grep -q "^- '$wanted.*from collection esg.pulsar_network'" <<< "$introspected" \
    || { echo "ansible-builder introspect does not list $wanted for esg.pulsar_network:"; echo "$introspected"; exit 1; }
done
rm -rf "$build/ee-context"
"$build/builder-venv/bin/ansible-builder" create -f execution-environment.yml -c "$build/ee-context" > /dev/null
test -f "$build/ee-context/Containerfile" -a -f "$build/ee-context/_build/collections/$(basename "$tarball")"
echo "ansible-builder: introspection lists the collection's $(grep -c "from collection esg.pulsar_network" <<< "$introspected")" \
     "Python and system needs; build context rendered in $build/ee-context"
