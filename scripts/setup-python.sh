#!/usr/bin/env bash
# Installs the Python side of the test suite; idempotent and fast when nothing
# changed:
#   .venv          mlflow 3.17.2 + pytest   (conformance/requirements.txt)
#   .venv-mlflow33 mlflow 3.3.2             (conformance/requirements-mlflow33.txt)
#   /usr/bin/chromium (Debian package) for the browser test.
# pip runs only when a venv's stamp file does not hold the hash of its
# requirements file (and of the python that built it).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"

log_dir="$(mktemp -d)"
trap 'rm -rf "$log_dir"' EXIT

# run_quiet LABEL CMD...: runs CMD with its output in a log, shown on failure.
run_quiet() {
	local label="$1"
	shift
	local log="$log_dir/$label.log"
	if ! "$@" >"$log" 2>&1; then
		echo "setup-python: $label failed: $*" >&2
		tail -n 60 "$log" >&2
		return 1
	fi
}

setup_venv() {
	local venv="$1" req="$2"
	local stamp="$venv/.requirements.sha256"
	local want
	want="$( (cat "$req"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
	if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
		echo "setup-python: $venv up to date"
		return 0
	fi
	echo "setup-python: installing $req into $venv"
	rm -f "$stamp"
	if [[ ! -x "$venv/bin/python" ]]; then
		run_quiet "venv-$venv" "$python" -m venv "$venv"
	fi
	run_quiet "pip-$venv" "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req"
	echo "$want" >"$stamp"
}

setup_chromium() {
	if [[ -x /usr/bin/chromium ]]; then
		return 0
	fi
	if [[ "$(id -u)" != 0 ]]; then
		echo "setup-python: /usr/bin/chromium missing and not root: install the Debian package chromium for the browser test" >&2
		return 0
	fi
	echo "setup-python: installing Debian chromium"
	export DEBIAN_FRONTEND=noninteractive
	run_quiet apt-update apt-get update
	run_quiet apt-chromium apt-get install -y --no-install-recommends chromium
}

setup_venv .venv conformance/requirements.txt &
pid_main=$!
setup_venv .venv-mlflow33 conformance/requirements-mlflow33.txt &
pid_old=$!
status=0
setup_chromium || status=1
wait "$pid_main" || status=1
wait "$pid_old" || status=1
exit "$status"
