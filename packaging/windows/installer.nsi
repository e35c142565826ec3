; Per-user Windows installer of Checkpoint Wizard (NSIS 3, Modern UI 2).
;
;   makensis -DVERSION=0.1.0 -DPAYLOAD=<frozen folder> -DOUTFILE=<setup.exe> installer.nsi
;
; (absolute paths: makensis works from this script's folder.)
; PAYLOAD is the folder that packaging/checkpoint-wizard.spec freezes. The Windows workflow
; compiles this script with the real folder; packaging/build.sh compiles it on Linux on every
; run with a stand-in payload (the Linux folder under the Windows names), so its syntax and
; its payload checks are tested everywhere.
;
; No admin rights: the program goes to %LOCALAPPDATA%\Programs\Checkpoint Wizard, shortcuts
; to the user's own Start menu (and desktop, if chosen), the uninstall entry to HKCU. A newer
; version installs over an older one in place: the old program files go first, so nothing
; stale stays behind. The technician's journal and settings (%LOCALAPPDATA%\checkpoint-wizard,
; platformdirs' user data folder of the product) survive an uninstall unless they tick
; "Also remove my journal and settings". The passwords the technician let the product remember
; live in the Windows Credential Manager, not in any file: "Also forget my remembered
; passwords" runs the installed `checkpoint-wizard-cli.exe forget-passwords` before the
; program goes.
;
; Silent switches (for Intune, SCCM, a logon script; the README lists them with exit codes):
;   setup.exe /S [/D=<folder>]                          install or upgrade, no window
;   uninstall.exe /S [/REMOVEDATA] [/FORGETPASSWORDS]   uninstall; the two switches tick the
;                                                       two optional boxes

Unicode true
ManifestDPIAware true
RequestExecutionLevel user
; Solid LZMA makes the smallest download (about 3 minutes for a full payload on two cores).
; packaging/build.sh's Linux stand-in passes -DCOMPRESSOR=zlib: it only checks the script.
!ifndef COMPRESSOR
  !define COMPRESSOR "lzma"
!endif
!if "${COMPRESSOR}" == "lzma"
  SetCompressor /SOLID lzma
  SetCompressorDictSize 64
!else
  SetCompressor "${COMPRESSOR}"
!endif

!ifndef VERSION
  !error "Pass the version: makensis -DVERSION=X.Y.Z ..."
!endif
!ifndef PAYLOAD
  !error "Pass the frozen folder: makensis -DPAYLOAD=<folder> ..."
!endif
!ifndef OUTFILE
  !error "Pass the installer's file name: makensis -DOUTFILE=<setup.exe> ..."
!endif

!define PRODUCT "Checkpoint Wizard"
!define PUBLISHER "Checkpoint Wizard"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\CheckpointWizard"
!define DATA_DIR "$LOCALAPPDATA\checkpoint-wizard"
; makensis works from this script's folder. Forward slashes: makensis on Linux reads them
; too, and Windows accepts them.
!define ICON "../../resources/ui/app.ico"

; ------------------------------------------------------------------------- payload manifest
; The top-level items of the frozen folder, as packaging/checkpoint-wizard.spec makes them
; (its OUTPUT_* names). tests/packaging/test_manifest.py holds this list against the spec and
; checks that every top-level item is removed by REMOVE_PROGRAM; tests/packaging/
; test_frozen.py holds it against a real frozen folder. Nested items (with a backslash) are
; checked here at compile time only.
!define ITEM_GUI "checkpoint-wizard.exe"
!define ITEM_CLI "checkpoint-wizard-cli.exe"
!define ITEM_LAB "checkpoint-lab.exe"
!define ITEM_CONTENTS "_internal"
!define ITEM_SCENARIOS "_internal\resources\scenarios"
!define ITEM_UI "_internal\resources\ui"

!macro CHECK_PAYLOAD_ITEM ITEM
  !if ! /FileExists "${PAYLOAD}\${ITEM}"
    !error "The payload ${PAYLOAD} has no ${ITEM}: freeze with packaging/checkpoint-wizard.spec"
  !endif
!macroend
!insertmacro CHECK_PAYLOAD_ITEM "${ITEM_GUI}"
!insertmacro CHECK_PAYLOAD_ITEM "${ITEM_CLI}"
!insertmacro CHECK_PAYLOAD_ITEM "${ITEM_LAB}"
!insertmacro CHECK_PAYLOAD_ITEM "${ITEM_CONTENTS}"
!insertmacro CHECK_PAYLOAD_ITEM "${ITEM_SCENARIOS}"
!insertmacro CHECK_PAYLOAD_ITEM "${ITEM_UI}"

; What the program consists of once installed: removed before an upgrade and on uninstall.
; Named items only, never the whole install folder, which the user may have pointed elsewhere.
!macro REMOVE_PROGRAM
  Delete "$INSTDIR\${ITEM_GUI}"
  Delete "$INSTDIR\${ITEM_CLI}"
  Delete "$INSTDIR\${ITEM_LAB}"
  RMDir /r "$INSTDIR\${ITEM_CONTENTS}"
  Delete "$SMPROGRAMS\${PRODUCT}.lnk"
  Delete "$DESKTOP\${PRODUCT}.lnk"
!macroend

; ----------------------------------------------------------------------------------- general
!searchparse /noerrors "${VERSION}" "" VERSION_MAJOR "." VERSION_MINOR "." VERSION_PATCH
!ifndef VERSION_PATCH
  !error "VERSION must be X.Y.Z (got ${VERSION})"
!endif

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${PRODUCT}"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
BrandingText "${PRODUCT} ${VERSION}"

VIProductVersion "${VERSION_MAJOR}.${VERSION_MINOR}.${VERSION_PATCH}.0"
VIFileVersion "${VERSION_MAJOR}.${VERSION_MINOR}.${VERSION_PATCH}.0"
VIAddVersionKey /LANG=1033 "ProductName" "${PRODUCT}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "FileDescription" "${PRODUCT} ${VERSION} setup"
VIAddVersionKey /LANG=1033 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "Proprietary"

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"
!include "Sections.nsh"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN "$INSTDIR\${ITEM_GUI}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${PRODUCT}"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

; ---------------------------------------------------------------------------------- install
Section "${PRODUCT}" SecProgram
  SectionIn RO
  SetOutPath "$INSTDIR"
  !insertmacro REMOVE_PROGRAM
  File /r "${PAYLOAD}\*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${PRODUCT}.lnk" "$INSTDIR\${ITEM_GUI}"

  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${ITEM_GUI},0"
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" "$0"
SectionEnd

Section /o "Desktop shortcut" SecDesktop
  CreateShortcut "$DESKTOP\${PRODUCT}.lnk" "$INSTDIR\${ITEM_GUI}"
SectionEnd

; -------------------------------------------------------------------------------- uninstall
Section "un.${PRODUCT} (the program)" UnProgram
  SectionIn RO
  ; Before the program goes: forgetting the passwords needs the installed command line.
  Call un.ForgetPasswordsIfChosen
  !insertmacro REMOVE_PROGRAM
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  ; The cache is rebuilt when needed; it goes with the program.
  RMDir /r "${DATA_DIR}\Cache"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
SectionEnd

Section /o "un.Also remove my journal and settings" UnData
  RMDir /r "${DATA_DIR}"
SectionEnd

Section /o "un.Also forget my remembered passwords" UnPasswords
  ; The work is done by un.ForgetPasswordsIfChosen, from the program's section: by the time
  ; this section runs the command line that does it has been removed.
SectionEnd

Function un.ForgetPasswordsIfChosen
  ${If} ${SectionIsSelected} ${UnPasswords}
    DetailPrint "Forgetting the passwords remembered in the Windows Credential Manager"
    ClearErrors
    ExecWait '"$INSTDIR\${ITEM_CLI}" forget-passwords --yes' $0
    ${If} ${Errors}
    ${OrIf} $0 != 0
      ; The program still goes: the passwords can be removed by hand (Credential Manager,
      ; entries named checkpoint-wizard:<vCenter>).
      DetailPrint "The remembered passwords could not be forgotten (exit $0)"
    ${EndIf}
  ${EndIf}
FunctionEnd

Function un.onInit
  ; Silent uninstalls cannot tick boxes: /REMOVEDATA and /FORGETPASSWORDS do it for them.
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/REMOVEDATA" $R1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${UnData}
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/FORGETPASSWORDS" $R1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${UnPasswords}
  ${EndIf}
FunctionEnd
