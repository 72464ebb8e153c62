"""A stand-in for podman in the runner's unit tests: `pull` succeeds for images named ok/* and broken/*, `run` runs the
command on this host with every bound container path rewritten to its host directory, and fails as podman itself
fails (exit 125) for broken/*. The real runtime runs in the tes scenario."""

import json
import os
import subprocess
import sys

args = sys.argv[1:]
if args[0] == "pull":
    sys.exit(0 if args[-1].startswith(("ok/", "broken/")) else (print("Error: image not known", file=sys.stderr) or 125))
assert args[0] == "run", args
i, binds, env, workdir, entrypoint = 1, [], dict(os.environ), None, None
while args[i].startswith("--"):
    option = args[i]
    if option in ("--rm", "--interactive") or "=" in option:
        i += 1
        continue
    value = args[i + 1]
    if option == "--volume":
        binds.append(value.split(":", 1))
    elif option == "--env":
        key, _sep, val = value.partition("=")
        env[key] = val
    elif option == "--workdir":
        workdir = value
    elif option == "--entrypoint":
        entrypoint = json.loads(value)
    i += 2
if args[i].startswith("broken/"):
    sys.exit(print("Error: failed to connect to container's attach socket", file=sys.stderr) or 125)
command = entrypoint + args[i + 1:]


def host(text):
    for source, target in sorted(binds, key=lambda b: -len(b[1])):
        text = text.replace(target, source)
    return text


sys.exit(subprocess.run([host(a) for a in command], env={k: host(v) for k, v in env.items()},
                        cwd=host(workdir) if workdir else None, check=False).returncode)
