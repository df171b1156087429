#!/usr/bin/env bash
# macOS: wrap dist/coach into Call Coach.app with Info.plist, sign with the entitlements, make a DMG.
# Not run here (Linux); a macOS CI job runs it after `pyinstaller packaging/coach.spec`.
set -euo pipefail
cd "$(dirname "$0")/../.."
app="dist/Call Coach.app"
rm -rf "$app" && mkdir -p "$app/Contents/MacOS"
cp packaging/macos/Info.plist "$app/Contents/"
cp -R dist/coach/ "$app/Contents/MacOS/"
codesign --force --deep --options runtime --entitlements packaging/macos/entitlements.plist -s "${SIGN_ID:--}" "$app"
hdiutil create -volname "Call Coach" -srcfolder "$app" -ov -format UDZO dist/call-coach.dmg
