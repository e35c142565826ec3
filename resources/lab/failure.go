package main

// The article's failure model (its conditions C1 to C4 and the sizes of "Raise the checkpoint
// buffer"), decided from the VM's live state, so that a trainee's fix changes the outcome.

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	mib               = 1 << 20
	defaultCptCache   = 8 * mib  // the buffer vMotion pre-allocates when nothing is set
	singleDisplayNeed = 16 * mib // covers any single display (the article)
	twoDisplayNeed    = 20 * mib // covers two displays of 1600x1200 (the article)
	capPixels         = 1280 * 1024
	capVRAMKB         = 5120 // 1280x1024 at 4 bytes a pixel
	checkpointOffset  = 32 * mib
	failureMessage    = "A general system error occurred: Failed to flush checkpoint data!"
	failureReason     = "Failed to flush checkpoint data!"
)

// checkpointDemand is the part of the VM's state that the article's conditions read.
type checkpointDemand struct {
	affected bool  // C1..C4 hold and no mitigation is in place
	length   int64 // display state that must fit in the checkpoint buffer, bytes
	buffer   int64 // the buffer in place, bytes
	required int64 // the buffer the displays need, bytes
}

// wddmGuest: the article names Vista, 2008, 7 and 2008 R2; later Windows also drive the
// display with WDDM (condition C2). Ids: winVista*, winLonghorn*, windows<N>* with N >= 7.
var windowsNumber = regexp.MustCompile(`^windows([0-9]+)`)

func wddmGuest(id string) bool {
	if strings.HasPrefix(id, "winVista") || strings.HasPrefix(id, "winLonghorn") {
		return true
	}
	m := windowsNumber.FindStringSubmatch(id)
	if m == nil {
		return false
	}
	n, err := strconv.Atoi(m[1])
	return err == nil && n >= 7
}

// parseSize reads an extra-config number tolerantly: blanks, decimal or 0x hex.
func parseSize(s string) (int64, bool) {
	s = strings.TrimSpace(strings.Trim(strings.TrimSpace(s), `"`))
	if s == "" {
		return 0, false
	}
	base := 10
	if strings.HasPrefix(strings.ToLower(s), "0x") {
		s, base = s[2:], 16
	}
	n, err := strconv.ParseInt(s, base, 64)
	return n, err == nil && n >= 0
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(strings.Trim(strings.TrimSpace(s), `"`))) {
	case "true", "1", "yes", "on":
		return true
	}
	return false
}

func extraValue(vm *simulator.VirtualMachine, key string) (string, bool) {
	for _, o := range vm.Config.ExtraConfig {
		v := o.GetOptionValue()
		if v.Key == key {
			s, _ := v.Value.(string)
			return s, true
		}
	}
	return "", false
}

// requiredBuffer: 16 MB for one display; 20 MB for two up to 1600x1200 each; beyond that our
// estimate 20 MB + 4 x (displays x width x height - 2 x 1600 x 1200), rounded up to a MiB.
func requiredBuffer(displays int32, w, h int64) int64 {
	if displays <= 1 {
		return singleDisplayNeed
	}
	extra := 4 * (int64(displays)*w*h - 2*1600*1200)
	if extra <= 0 {
		return twoDisplayNeed
	}
	return int64(math.Ceil(float64(twoDisplayNeed+extra)/mib)) * mib
}

// assess decides C1..C4 and the mitigation from the live VM. The guest OS is the one Tools
// report when they do, else the configured one (condition C2).
func assess(vm *simulator.VirtualMachine) checkpointDemand {
	card := videoCard(vm)
	displays, vramKB, enable3D := int32(1), int64(4096), false
	if card != nil {
		displays, vramKB = card.NumDisplays, card.VideoRamSizeInKB
		enable3D = card.Enable3DSupport != nil && *card.Enable3DSupport
	}
	if displays < 1 {
		displays = 1
	}

	var w, h int64
	if s := vm.Guest.Screen; s != nil && s.Width > 0 && s.Height > 0 {
		w, h = int64(s.Width), int64(s.Height)
	}
	var c1 bool
	var length int64
	switch {
	case displays > 1:
		c1 = true
	case w > 0:
		c1 = w*h > capPixels
	default:
		// Screen unknown: only video memory beyond 1280x1024 can hold a larger desktop.
		c1 = vramKB > capVRAMKB
	}
	if w > 0 {
		length = 4 * int64(displays) * w * h
	} else {
		length = vramKB * 1024
	}
	if w == 0 {
		w, h = 1600, 1200
	}

	guest := vm.Guest.GuestId
	if guest == "" {
		guest = vm.Config.GuestId
	}
	c2 := wddmGuest(guest)

	c3 := false
	if n, err := strconv.Atoi(strings.TrimPrefix(vm.Config.Version, "vmx-")); err == nil {
		c3 = n >= 8 && n <= 12
	}

	if v, ok := extraValue(vm, "mks.enable3d"); ok && truthy(v) {
		enable3D = true
	}
	c4 := !enable3D

	d := checkpointDemand{length: length, buffer: defaultCptCache, required: requiredBuffer(displays, w, h)}
	if v, ok := extraValue(vm, "migrate.baseCptCacheSize"); ok {
		if n, ok := parseSize(v); ok {
			d.buffer = n
		}
	}
	if d.length <= d.buffer {
		d.length = d.buffer + 4*mib
	}
	d.affected = c1 && c2 && c3 && c4 && d.buffer < d.required
	return d
}

// checkpointFault is the error vCenter gives the migration task, with the error stack the
// article quotes in faultMessage.
func checkpointFault(d checkpointDemand) *types.LocalizedMethodFault {
	fault := &types.SystemError{Reason: failureReason}
	fault.FaultMessage = []types.LocalizableMessage{
		{Key: "msg.checkpoint.save.fail2.std3", Message: "An I/O error occurred while saving the checkpoint: 0 (Resource temporarily unavailable)"},
		{Key: "msg.checkpoint.migration.writefail", Message: "Failed to write checkpoint data (offset " +
			strconv.FormatInt(checkpointOffset, 10) + ", size " + strconv.FormatInt(d.required, 10) + "): Failed to resume VM."},
	}
	return &types.LocalizedMethodFault{Fault: fault, LocalizedMessage: failureMessage}
}
