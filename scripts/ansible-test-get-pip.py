# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Offline stand-in for the get-pip.py that ansible-test downloads to bootstrap its venvs.

ansible-test fetches get-pip.py from a host these machines cannot reach; it accepts a
cached copy at ~/.ansible/test/cache/get_pip_<version>.py. This file is that copy: it
installs the pip bundled with Python (ensurepip) and then lets pip install the packages
ansible-test asked for from the configured package index, like get-pip.py would.
"""

import ensurepip
import os
import subprocess
import sys

# Flags that only get-pip.py understands; pip itself would reject them.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

ensurepip.bootstrap(upgrade=True)
# ensurepip hides pip's configuration from itself by setting PIP_CONFIG_FILE; the
# machine's pip configuration (index, CA bundle) must apply to the real install.
os.environ.pop("PIP_CONFIG_FILE", None)
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", *args]))
