; Inno Setup script for Call Coach (run on Windows after `pyinstaller packaging/coach.spec`):
;   iscc packaging\windows\call-coach.iss
; Not built here (Linux); a Windows CI job with Inno Setup 6 can run it as is.
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
