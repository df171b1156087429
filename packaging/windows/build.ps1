# Windows: dist\coach (one folder, coach.exe) from packaging\coach.spec, then the Inno Setup installer
# dist\call-coach-<version>-setup.exe from packaging\windows\call-coach.iss. Needs Python 3.11 with the project
# and pyinstaller>=6.10 installed (.venv\Scripts\python.exe if it exists, else $env:PYTHON, else python) and
# Inno Setup 6 (iscc on PATH or in its default folder; `choco install innosetup` otherwise).
# Not run by this project's CI (Linux only): .github/workflows/package-windows.yml runs it on a Windows runner.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$py = if ($env:PYTHON) { $env:PYTHON } elseif (Test-Path ".venv\Scripts\python.exe") { ".venv\Scripts\python.exe" } else { "python" }

& $py -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build\pyinstaller packaging\coach.spec
if ($LASTEXITCODE -ne 0) { throw "pyinstaller failed (exit $LASTEXITCODE)" }

$env:COACH_VERSION = (& $py -c "import coach; print(coach.__version__)").Trim()  # call-coach.iss reads it
$iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $iscc) { $iscc = Join-Path ${env:ProgramFiles(x86)} "Inno Setup 6\ISCC.exe" }
if (-not (Test-Path $iscc)) { throw "Inno Setup 6 not found (choco install innosetup)" }
& $iscc /Q packaging\windows\call-coach.iss
if ($LASTEXITCODE -ne 0) { throw "iscc failed (exit $LASTEXITCODE)" }

$setup = "dist\call-coach-$($env:COACH_VERSION)-setup.exe"
$mb = [math]::Round(((Get-ChildItem dist\coach -Recurse -File | Measure-Object Length -Sum).Sum) / 1MB)
Write-Host "bundle: dist\coach ($mb MB), installer: $setup ($([math]::Round((Get-Item $setup).Length / 1MB)) MB)"
