#!/usr/bin/env bash
# macOS: sign dist/Call Coach.app (built by packaging/macos/build.sh from coach.spec) with the entitlements and
# the hardened runtime, then make dist/call-coach-<version>-macos-<arch>.dmg (the app and an Applications link).
# SIGN_ID: a "Developer ID Application: ..." identity in the keychain; unset = ad-hoc (runs on this Mac; other
# Macs' Gatekeeper wants a Developer ID signature and notarization, which this script does not do).
# Not run by this project's CI (Linux only): .github/workflows/package-macos.yml runs it on a macOS runner.
set -euo pipefail
cd "$(dirname "$0")/../.."
app="dist/Call Coach.app"
[ -d "$app" ] || { echo "no $app: run packaging/macos/build.sh" >&2; exit 1; }
version=$(/usr/libexec/PlistBuddy -c "Print :CFBundleShortVersionString" "$app/Contents/Info.plist")
ts=""  # a secure timestamp for a real identity (notarization wants it); macOS's bash 3.2 has no empty arrays under set -u
[ -n "${SIGN_ID:-}" ] && ts="--timestamp"
codesign --force --deep --options runtime ${ts:+"$ts"} --entitlements packaging/macos/entitlements.plist -s "${SIGN_ID:--}" "$app"
codesign --verify --deep --strict --verbose=2 "$app"
stage=build/dmg
rm -rf "$stage" && mkdir -p "$stage"
ditto "$app" "$stage/Call Coach.app"
ln -s /Applications "$stage/Applications"
dmg="dist/call-coach-${version}-macos-$(uname -m).dmg"
hdiutil create -volname "Call Coach" -srcfolder "$stage" -ov -format UDZO "$dmg"
echo "app: $app ($(du -sh "$app" | cut -f1)), dmg: $dmg ($(du -sh "$dmg" | cut -f1))"
