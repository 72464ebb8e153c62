"""Repack a collection installed by PyPI's ansible package as an artifact that ansible-galaxy installs.

There is no Galaxy server here, so the package check resolves the collection's dependencies offline from these.
Usage: repack_installed_collection.py INSTALLED_COLLECTION_DIR OUTPUT_DIR
"""
import hashlib
import io
import json
import pathlib
import sys
import tarfile

src = pathlib.Path(sys.argv[1])
out_dir = pathlib.Path(sys.argv[2])
manifest = json.loads((src / "MANIFEST.json").read_text())
files = json.loads((src / "FILES.json").read_text())
# The ansible package leaves out some files (CI settings, tests) that FILES.json still lists.
files["files"] = [f for f in files["files"] if f["name"] == "." or (src / f["name"]).exists()]
files_bytes = json.dumps(files, indent=4).encode()
manifest["file_manifest_file"]["chksum_sha256"] = hashlib.sha256(files_bytes).hexdigest()
manifest_bytes = json.dumps(manifest, indent=4).encode()
info = manifest["collection_info"]
target = out_dir / f"{info['namespace']}-{info['name']}-{info['version']}.tar.gz"
with tarfile.open(target, "w:gz") as tar:
    for name, data in (("MANIFEST.json", manifest_bytes), ("FILES.json", files_bytes)):
        member = tarfile.TarInfo(name)
        member.size = len(data)
        member.mode = 0o644
        tar.addfile(member, io.BytesIO(data))
    for entry in files["files"]:
        if entry["name"] != ".":
            tar.add(src / entry["name"], arcname=entry["name"], recursive=False)
print(target)
