#!/usr/bin/env bash
# Installs the Debian packages Call Coach needs, saying which, only when some are missing.
#   espeak-ng      renders scripted test calls        libportaudio2  audio devices (sounddevice)
#   libsndfile1    audio files (soundfile's wheel bundles one; Debian's is the fallback)
#   pulseaudio pulseaudio-utils libasound2-plugins   a private sound server with virtual devices for
#                  the live-capture tests, and PortAudio's route to Pulse/PipeWire sources
set -euo pipefail
pkgs=(espeak-ng libportaudio2 libsndfile1 pulseaudio pulseaudio-utils libasound2-plugins)
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
