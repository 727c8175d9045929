#!/usr/bin/env bash
# Installs the Debian packages MahlerNet Studio needs, only those missing, so that it is cheap to
# run again. Uses sudo when not root. On a system without apt-get it says what to install instead.
set -euo pipefail

PACKAGES=(
  # Python 3.11 virtual environments
  python3-venv
  # FluidSynth library for pyfluidsynth, and a small General MIDI soundfont
  libfluidsynth3 timgm6mb-soundfont
  # Qt's xcb platform plugin (a real window) and an X server for screenshots without a display
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxkbcommon-x11-0
  libegl1 libgl1 libfontconfig1 libdbus-1-3 xvfb x11-utils
  # Audio and MIDI servers used by the tests of real-time audio and live MIDI out
  jackd2 pulseaudio
)

if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: install FluidSynth, a GM soundfont and Qt's xcb libraries with your package manager." >&2
  exit 0
fi

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing system packages: ${missing[*]}"
# jackd2 asks whether to enable real-time limits; answer no so the install never waits for input.
echo "jackd2 jackd/tweak_rt_limits boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
