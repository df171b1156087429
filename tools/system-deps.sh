#!/usr/bin/env bash
# Installs the Debian packages Call Coach needs, saying which, only when some are missing.
#   espeak-ng      renders scripted test calls        libportaudio2  audio devices (sounddevice)
#   libsndfile1    audio files (soundfile's wheel bundles one; Debian's is the fallback)
#   pulseaudio pulseaudio-utils libasound2-plugins   a private sound server with virtual devices for
#                  the live-capture tests, and PortAudio's route to Pulse/PipeWire sources
#   xvfb + libxcb-* libxkbcommon-x11-0 libegl1 libgl1 fonts-dejavu-core   Qt's xcb platform, for the
#                  overlay on a real (virtual) X server in the tests, and on Linux desktops
#   postgresql     the team server's database: `make server` and the team tests start their own cluster
#   chromium openssl   the dashboard's browser tests (Playwright drives Debian's chromium); test certificates
set -euo pipefail
pkgs=(espeak-ng libportaudio2 libsndfile1 pulseaudio pulseaudio-utils libasound2-plugins
      xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0 libxcb-render-util0
      libxcb-image0 libxcb-xinerama0 libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core postgresql chromium openssl)
command -v dpkg-query >/dev/null || { echo "not a Debian/Ubuntu system: install ${pkgs[*]} yourself" >&2; exit 0; }
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
