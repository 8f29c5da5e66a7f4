#!/usr/bin/env bash
# The Debian packages the test suite drives as real clients, installed with apt-get when missing.
# A machine that has them already is left alone: nothing is updated, nothing is installed.
#
# To add one, add a line to PACKAGES: the Debian package, then the command that shows it is there
# (a command found on PATH counts, however it was installed).
set -euo pipefail

PACKAGES=(
  "libreoffice-calc-nogui soffice"  # a user's spreadsheet: tests/files/calc.py
  "chromium chromium"  # a user's browser: tests/browser/
)

installed() {  # package command
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ] || command -v "$2" >/dev/null 2>&1
}

missing=()
for entry in "${PACKAGES[@]}"; do
  read -r package command <<<"$entry"
  installed "$package" "$command" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

# Where installing is not possible the suite still runs: the tests that need a package skip, or fail
# where CI requires them (LEADGATE_REQUIRE_CALC).
cannot() {
  echo "tests/system-packages.sh: $1; the tests that need ${missing[*]} will skip" >&2
  exit 0
}
command -v apt-get >/dev/null 2>&1 || cannot "no apt-get here (not Debian)"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || cannot "not root and no sudo"
  sudo=(sudo)
fi

echo "== installing the packages the tests drive: ${missing[*]}"
apt_install() {
  ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}"
}
# The package lists are refreshed only when installing from them fails (missing or out of date).
if ! apt_install; then
  ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update
  apt_install
fi
