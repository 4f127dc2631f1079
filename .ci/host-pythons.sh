#!/usr/bin/env bash
# The oldest and newest host Pythons edgebench supports (3.9 and 3.13), each a venv with edgebench installed
# editable with its dev extra (.ci/py39/, .ci/py313/), on which .ci/run runs the unit tests after the README's
# test command. Interpreters come from pyenv or PATH, as in oldest-python.sh. A venv is reused while it works,
# runs this checkout and pyproject.toml is unchanged since it was made; otherwise it is made again.
# Without an interpreter (or when pip fails) it says so and goes on; under CI=true it fails.
#     .ci/host-pythons.sh [X.Y ...]      default: 3.9 3.13
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
[ $# -gt 0 ] || set -- 3.9 3.13
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
for version in "$@"; do
    venv=.ci/py${version/./}
    stamp=$venv/pyproject.sha256
    # -I: the checkout's directory and PYTHONPATH must not stand in for the venv's own editable install
    if [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ] &&
       "$venv/bin/python" -I -c 'import sys, edgebench, onnx, pytest; assert edgebench.__file__.startswith(sys.argv[1])' \
           "$PWD/" 2>/dev/null; then
        echo "host-pythons: reusing $venv ($("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])'))"
        continue
    fi
    interpreter=$(find_python "$version")
    if [ -z "$interpreter" ]; then
        unavailable "host-pythons: no python$version here" ".ci/run will not run the unit tests on it"
        continue
    fi
    rm -rf "$venv"
    if ! { "$interpreter" -m venv "$venv" &&
           "$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[dev]"; }; then
        rm -rf "$venv"
        unavailable "host-pythons: could not make $venv from $interpreter" ".ci/run will not run the unit tests on it"
        continue
    fi
    echo "$wanted" >"$stamp"
    echo "host-pythons: $("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])') in $venv"
done
