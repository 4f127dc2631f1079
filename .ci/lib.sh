# Helpers the .ci scripts source: finding an interpreter, and what to do when one is missing.

# find_python X.Y: print the path of a working pythonX.Y (pyenv's versions first, then PATH), or nothing.
find_python() {
    local version=$1 candidate
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python"$version" \
                     "$(command -v "python$version" || true)"; do
        # a pyenv shim is on PATH even where it cannot run: ask the candidate itself
        if [ -n "$candidate" ] &&
           "$candidate" -c "import sys; assert '%d.%d' % sys.version_info[:2] == '$version'" 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
}

# unavailable PROBLEM CONSEQUENCE: in CI (CI=true) a missing interpreter or venv ends the run with a failure, since
# the tests that need it would otherwise skip and CI go green without them; elsewhere it says both and returns.
unavailable() {
    if [ "${CI:-}" = "true" ]; then
        echo "$1 (CI=true: failing the run)" >&2
        exit 1
    fi
    echo "$1; $2" >&2
}
