#!/usr/bin/env bash
# The device agent's oldest Python (3.8: JetPack 5's python3) with numpy and psutil, in .ci/py38/, so the
# integration tests can run the real agent zipapp on it (tests/integration/test_agent_oldest_python.py).
# Uses a python3.8 already on this machine (pyenv or PATH). Without one those tests skip and say why; under
# CI=true this script fails instead (and so would those tests).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
venv=.ci/py38
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import numpy, psutil" 2>/dev/null; then
    exit 0
fi
interpreter=$(find_python 3.8)
if [ -z "$interpreter" ]; then
    unavailable "oldest-python: no python3.8 here" "the agent-on-Python-3.8 tests will skip"
    exit 0
fi
rm -rf "$venv"
if ! { "$interpreter" -m venv "$venv" &&
       "$venv/bin/python" -m pip install -q --disable-pip-version-check "numpy<1.25" "psutil"; }; then
    rm -rf "$venv"
    unavailable "oldest-python: could not make $venv from $interpreter" "the agent-on-Python-3.8 tests will skip"
    exit 0
fi
echo "oldest-python: $("$venv/bin/python" -c 'import sys, numpy; print(sys.version.split()[0], "numpy", numpy.__version__)') in $venv"
