#!/usr/bin/env bash
# ansible-test sanity on the collection's files, laid out as ansible-test wants them
# (.build/sanity/ansible_collections/esg/pulsar_network, a git tree) and run in its own virtualenvs.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=.build/sanity/ansible_collections/esg/pulsar_network
rm -rf .build/sanity
mkdir -p "$tree"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$tree" 2>/dev/null || true
git -C "$tree" init -q && git -C "$tree" add -A

# ansible-test bootstraps pip in each virtualenv with a script it downloads; supply it from here.
pip_version=$(python3 - <<'PY'
import pathlib, re, ansible_test
source = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", source).group(1))
PY
)
mkdir -p ~/.ansible/test/cache
cp scripts/ansible-test-get-pip.py ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"

cd "$tree"
ansible-test sanity --venv --python 3.11 "$@"
