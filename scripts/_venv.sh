# Sourced by scripts/run and scripts/test: make .venv with Pejling installed, once,
# and again whenever pyproject.toml changes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Pejling needs Python 3.11 or newer (found: $("$PYTHON" --version 2>&1))." >&2
    echo "On Debian/Ubuntu: sudo apt install python3 python3-venv" >&2
    exit 1
fi
stamp=.venv/.pejling-installed
if [ ! -x .venv/bin/python ] || [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "Setting up .venv (first run only) ..." >&2
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev]'
    touch "$stamp"
fi
