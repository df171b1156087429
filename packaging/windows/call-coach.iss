; Inno Setup script for Call Coach, run by packaging\windows\build.ps1 after `pyinstaller packaging/coach.spec`
; (COACH_VERSION set):  iscc packaging\windows\call-coach.iss
; Not run by this project's CI (Linux only): .github/workflows/package-windows.yml runs it on a Windows runner.
#define AppVersion GetEnv("COACH_VERSION")
[Setup]
AppName=Call Coach
AppVersion={#AppVersion}
DefaultDirName={autopf}\Call Coach
DefaultGroupName=Call Coach
OutputBaseFilename=call-coach-{#AppVersion}-setup
OutputDir=..\..\dist
Compression=lzma2
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible
[Files]
Source: "..\..\dist\coach\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion
[Icons]
Name: "{group}\Call Coach"; Filename: "{app}\coach.exe"; Parameters: "live"
Name: "{group}\Call Coach replay"; Filename: "{app}\coach.exe"; Parameters: "replay"
