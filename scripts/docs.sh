#!/usr/bin/env bash
# Render the collection's documentation as HTML (make docs): every module, inventory plugin, filter and role (entry
# points and variables from the argument specs) with antsibull-docs, plus the guides in docs/, with Sphinx.
# Any Sphinx warning fails the build (-W). The site is .build/docs/site/build/html/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$PWD/.build/docs
source scripts/venv.sh
venv "$build-venv" -r requirements/docs.txt
# The collection as `make collection` installed it (.build/collections), like the package check's tarball.
export PATH=$build-venv/bin:$PWD/.venv/bin:$PATH ANSIBLE_COLLECTIONS_PATH=$PWD/.build/collections
export ANSIBLE_REFS_INVENTORY=$build/ansible_devel.inv

rm -rf "$build/site" && mkdir -p "$build/site"
antsibull-docs sphinx-init --use-current --dest-dir "$build/site" --fail-on-error esg.pulsar_network > /dev/null
cat >> "$build/site/conf.py" <<'PY'
import os

project = "esg.pulsar_network"
title = html_short_title = "esg.pulsar_network: the Pulsar Network collection"
copyright = "ESG Pulsar Network engineers"
# Offline: Ansible's targets come from a local inventory (docs/docsite/ansible-refs.txt); nothing else is linked.
intersphinx_mapping = {
    "ansible_devel": ("https://docs.ansible.com/projects/ansible/devel/", os.environ["ANSIBLE_REFS_INVENTORY"]),
}
# The guides in docs/ are Markdown.
extensions.append("myst_parser")
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3
PY
sed -i -e 's/^Welcome to my Ansible collection documentation$/The Pulsar Network collection/' \
       -e 's/^This docsite contains documentation of esg.pulsar_network.$/Modules, inventory plugins, filters and roles, then the guides./' \
    "$build/site/rst/index.rst"

# Ansible's intersphinx inventory, for the targets the pages link to (it cannot be fetched here).
python3 - docs/docsite/ansible-refs.txt "$ANSIBLE_REFS_INVENTORY" <<'PY'
import sys, zlib
lines = [line.split() for line in open(sys.argv[1]) if line.strip() and not line.startswith("#")]
body = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in lines)
header = "# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n# The remainder of this file is compressed using zlib.\n"
open(sys.argv[2], "wb").write(header.encode() + zlib.compress(body.encode()))
PY

# The guides, under their own heading on the front page. A guide split into pages (docs/NAME.md, which links to each
# of docs/NAME/*.md) has them under its own entry, in the order it links to them; a page it does not link to is warned.
mkdir -p "$build/site/rst/guides"
cp docs/*.md "$build/site/rst/guides/"
for pages in docs/*/; do
  name=$(basename "$pages")
  if [[ ! -f docs/$name.md ]] || ! compgen -G "$pages*.md" > /dev/null; then continue; fi
  mkdir -p "$build/site/rst/guides/$name"
  cp "$pages"*.md "$build/site/rst/guides/$name/"
  { printf '\n```{toctree}\n:hidden:\n\n'
    { grep -o "]($name/[^)#]*\.md" "docs/$name.md" || true; } | sed 's/^](//; s/\.md$//' | awk '!seen[$0]++'
    printf '```\n'; } >> "$build/site/rst/guides/$name.md"
done
cat >> "$build/site/rst/index.rst" <<'RST'


.. toctree::
   :maxdepth: 1
   :caption: Guides:
   :glob:

   guides/*
RST

(cd "$build/site" && ./build.sh > "$build/build.log" 2>&1) || { grep -E 'WARNING|ERROR' "$build/build.log" || tail -n 30 "$build/build.log"; exit 1; }
echo "docs: $(find "$build/site/build/html" -name '*.html' | wc -l) pages, no warnings: $build/site/build/html/index.html"
