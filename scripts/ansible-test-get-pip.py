"""Stand-in for the get-pip.py that ansible-test downloads from a host this lab cannot reach.

ansible-test runs it inside each new sanity virtualenv with pip's options and the pinned pip release;
Python's own ensurepip plus PyPI give the same result.
"""
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", *[a for a in sys.argv[1:] if a not in GET_PIP_ONLY]])
