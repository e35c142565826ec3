package main

// The VM's vmware.log on the datastore, written in the ESXi 5.x style the article quotes:
// "2026-11-26T10:00:00.000Z| vmx| message". The wizard reads it over HTTPS as evidence.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

func logStamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// logLines formats lines with timestamps a few milliseconds apart, starting at t.
func logLines(t time.Time, lines ...string) string {
	var b strings.Builder
	for i, line := range lines {
		fmt.Fprintf(&b, "%s| vmx| %s\n", logStamp(t.Add(time.Duration(i*7)*time.Millisecond)), line)
	}
	return b.String()
}

// writeStartLog replaces the simulator's one-line log with the ordinary start of a VM's log.
func writeStartLog(path string, vm *simulator.VirtualMachine, host string, start time.Time) error {
	boot := start.Add(-26 * time.Hour)
	hw := strings.TrimPrefix(vm.Config.Version, "vmx-")
	if n, err := strconv.Atoi(hw); err == nil {
		hw = strconv.Itoa(n)
	}
	displays, vram := int32(1), int64(4096)
	if card := videoCard(vm); card != nil {
		displays, vram = card.NumDisplays, card.VideoRamSizeInKB
	}
	text := logLines(boot,
		"Log for VMware ESX pid=51234 version=5.0.0 build=build-469512 option=Release",
		"The process is 64-bit.",
		"Host codepage=UTF-8 encoding=UTF-8",
		"Hostname="+host,
		fmt.Sprintf("DICT --- CONFIGURATION /vmfs/volumes/%s/%s", datastoreName, vm.Config.Files.VmPathName[len(datastoreName)+3:]),
		fmt.Sprintf(`DICT    virtualHW.version = "%s"`, hw),
		fmt.Sprintf(`DICT    displayName = "%s"`, vm.Name),
		fmt.Sprintf(`DICT    guestOS = "%s"`, vm.Config.GuestId),
		fmt.Sprintf(`DICT    svga.numDisplays = "%d"`, displays),
		fmt.Sprintf(`DICT    svga.vramSize = "%d"`, vram*1024),
		"VMMon_ConfigMemSched: vmmon.numVCPUs=2",
		"SVGA: Using video memory size from config.",
		"Tools: Running status rotated from 0 to 1.",
	)
	return os.WriteFile(path, []byte(text), 0o600)
}

// checkpointFailureLines are the article's vmware.log signature of the failure.
func checkpointFailureLines(t time.Time, migrationID string, length, offset, max int64) string {
	return logLines(t,
		"Migrate: VM starting stun, waiting 100 seconds for go/no-go message.",
		"Migrate_SetFailure: Failed waiting for data. Error bad0006. Limit exceeded.",
		fmt.Sprintf("[vob.vmotion.chkpt.toobig] vMotion migration [%s] failed. The checkpoint data length (%d bytes) or the offset (%d bytes) exceeds the maximum checkpoint data length (%d byte).",
			migrationID, length, offset, max),
		"Msg_Post: Error",
		"[msg.checkpoint.migration.writefail] Failed to write checkpoint data (offset "+strconv.FormatInt(offset, 10)+", size "+strconv.FormatInt(length, 10)+"): Limit exceeded.",
		"[msg.moduletable.powerOnFailed] Module Migrate power on failed.",
		"Migrate: cleaning up migration state.",
	)
}

func appendLog(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.WriteString(text); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func videoCard(vm *simulator.VirtualMachine) *types.VirtualMachineVideoCard {
	for _, d := range vm.Config.Hardware.Device {
		if card, ok := d.(*types.VirtualMachineVideoCard); ok {
			return card
		}
	}
	return nil
}
