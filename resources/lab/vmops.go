package main

// VM calls the lab answers itself because the simulator gets them wrong or lacks them:
// reconfigure, hardware upgrade, and power operations whose effect on the guest (Tools,
// screen) the lab models.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// withVM runs f holding the VM's lock, as the simulator's dispatcher does for its own calls.
func withVM(ref types.ManagedObjectReference, f func(*simulator.VirtualMachine) soap.HasFault) soap.HasFault {
	vm, fault := lookupVM(ref)
	if fault != nil {
		return fault
	}
	var res soap.HasFault
	simulator.Map.WithLock(vm, func() { res = f(vm) })
	return res
}

func failedTask(ctx *callContext, vm *simulator.VirtualMachine, method, descriptionID string, f types.BaseMethodFault) soap.HasFault {
	t := newTask(vm, method, descriptionID, ctx.user)
	return taskBody(method, runTask(t, func() (types.AnyType, *types.LocalizedMethodFault) {
		return nil, localized(f)
	}))
}

func (l *Lab) reconfigVM(ctx *callContext, m *simulator.Method) soap.HasFault {
	req := m.Body.(*types.ReconfigVM_Task)
	return withVM(m.This, func(vm *simulator.VirtualMachine) soap.HasFault {
		if f := reconfigPrecheck(vm, &req.Spec); f != nil {
			return failedTask(ctx, vm, "ReconfigVM_Task", "VirtualMachine.reconfigure", f)
		}
		oldExtra := append([]types.BaseOptionValue{}, vm.Config.ExtraConfig...)
		body := vm.ReconfigVMTask(ctx.sim(vm.Self), req).(*methods.ReconfigVM_TaskBody)
		ref := body.Res.Returnval
		simulator.Map.Update(simulator.Map.Get(ref).(*simulator.Task), []types.PropertyChange{
			{Name: "info.name", Val: "ReconfigVM_Task"},
			{Name: "info.descriptionId", Val: "VirtualMachine.reconfigure"},
			{Name: "info.reason", Val: &types.TaskReasonUser{UserName: ctx.user}},
		})
		if t := simulator.Map.Get(ref).(*simulator.Task); t.Info.Error != nil {
			simulator.Map.Update(vm, []types.PropertyChange{{Name: "config.extraConfig", Val: oldExtra}})
			fixTaskMessage(ref)
			return body
		}
		// WORKAROUND for the simulator appending extraConfig entries (duplicate keys) and
		// ignoring empty values: vCenter replaces a key's value, and an empty value deletes it.
		changes := []types.PropertyChange{
			{Name: "config.extraConfig", Val: mergeExtraConfig(oldExtra, req.Spec.ExtraConfig)},
			{Name: "config.changeVersion", Val: l.nextChangeVersion()},
		}
		// WORKAROUND for the simulator accepting and ignoring scheduledHardwareUpgradeInfo.
		if up := req.Spec.ScheduledHardwareUpgradeInfo; up != nil {
			changes = append(changes, types.PropertyChange{Name: "config.scheduledHardwareUpgradeInfo", Val: &types.ScheduledHardwareUpgradeInfo{
				UpgradePolicy:                  up.UpgradePolicy,
				VersionKey:                     up.VersionKey,
				ScheduledHardwareUpgradeStatus: string(types.ScheduledHardwareUpgradeInfoHardwareUpgradeStatusNone),
			}})
		}
		if id := req.Spec.GuestId; id != "" {
			changes = append(changes,
				types.PropertyChange{Name: "config.guestFullName", Val: guestFullName(id)},
				types.PropertyChange{Name: "summary.config.guestFullName", Val: guestFullName(id)})
		}
		simulator.Map.Update(vm, changes)
		if req.Spec.GuestId != "" {
			// The simulator also writes the configured id into summary.guest, which shows
			// what Tools report: publish the guest section again.
			l.setGuest(vm, toolsRunning(vm))
		}
		return body
	})
}

// reconfigPrecheck refuses what vCenter refuses before changing anything: a stale
// changeVersion, a video card edit while the VM runs, a change of the hardware version.
func reconfigPrecheck(vm *simulator.VirtualMachine, spec *types.VirtualMachineConfigSpec) types.BaseMethodFault {
	if spec.ChangeVersion != "" && spec.ChangeVersion != vm.Config.ChangeVersion {
		return &types.ConcurrentAccess{}
	}
	if spec.Version != "" {
		return &types.InvalidArgument{InvalidProperty: "configSpec.version"}
	}
	if up := spec.ScheduledHardwareUpgradeInfo; up != nil {
		switch up.UpgradePolicy {
		case "never", "onSoftPowerOff", "always":
		default:
			return &types.InvalidArgument{InvalidProperty: "configSpec.scheduledHardwareUpgradeInfo.upgradePolicy"}
		}
		if up.VersionKey != "" && !hwVersionRe.MatchString(up.VersionKey) {
			return &types.InvalidArgument{InvalidProperty: "configSpec.scheduledHardwareUpgradeInfo.versionKey"}
		}
	}
	current := videoCard(vm)
	for i, c := range spec.DeviceChange {
		ds := c.GetVirtualDeviceConfigSpec()
		card, ok := ds.Device.(*types.VirtualMachineVideoCard)
		if !ok {
			continue
		}
		if ds.Operation != types.VirtualDeviceConfigSpecOperationEdit || current == nil || card.Key != current.Key {
			return &types.InvalidDeviceSpec{InvalidVmConfig: types.InvalidVmConfig{Property: "deviceChange"}, DeviceIndex: int32(i)}
		}
		merged := mergeVideoCard(current, card)
		if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff && videoChanged(current, merged) {
			// numDisplays, enable3DSupport and the video memory change only while off.
			return &types.InvalidPowerState{
				RequestedState: types.VirtualMachinePowerStatePoweredOff,
				ExistingState:  vm.Runtime.PowerState,
			}
		}
		ds.Device = merged
	}
	return nil
}

// mergeVideoCard applies the fields a client set to a copy of the current card: a client may
// send only what it changes, and the shared default device must never be changed in place.
func mergeVideoCard(cur, req *types.VirtualMachineVideoCard) *types.VirtualMachineVideoCard {
	c := *cur
	if cur.DeviceInfo != nil {
		info := *cur.DeviceInfo.GetDescription()
		info.Summary = ""
		c.DeviceInfo = &info
	}
	if req.NumDisplays != 0 {
		c.NumDisplays = req.NumDisplays
	}
	if req.VideoRamSizeInKB != 0 {
		c.VideoRamSizeInKB = req.VideoRamSizeInKB
	}
	if req.UseAutoDetect != nil {
		c.UseAutoDetect = types.NewBool(*req.UseAutoDetect)
	}
	if req.Enable3DSupport != nil {
		c.Enable3DSupport = types.NewBool(*req.Enable3DSupport)
	}
	if req.Use3dRenderer != "" {
		c.Use3dRenderer = req.Use3dRenderer
	}
	if req.GraphicsMemorySizeInKB != 0 {
		c.GraphicsMemorySizeInKB = req.GraphicsMemorySizeInKB
	}
	return &c
}

func videoChanged(a, b *types.VirtualMachineVideoCard) bool {
	return a.NumDisplays != b.NumDisplays || a.VideoRamSizeInKB != b.VideoRamSizeInKB ||
		a.GraphicsMemorySizeInKB != b.GraphicsMemorySizeInKB ||
		boolOf(a.UseAutoDetect) != boolOf(b.UseAutoDetect) || boolOf(a.Enable3DSupport) != boolOf(b.Enable3DSupport)
}

func boolOf(b *bool) bool { return b != nil && *b }

// mergeExtraConfig applies vCenter's semantics: a key's value is replaced, an empty value
// removes the key. Values are stored as strings, as vCenter stores them.
func mergeExtraConfig(old, changes []types.BaseOptionValue) []types.BaseOptionValue {
	out := make([]types.BaseOptionValue, 0, len(old)+len(changes))
	index := map[string]int{}
	for _, o := range old {
		v := o.GetOptionValue()
		if _, dup := index[v.Key]; dup {
			continue
		}
		index[v.Key] = len(out)
		out = append(out, &types.OptionValue{Key: v.Key, Value: v.Value})
	}
	for _, c := range changes {
		v := c.GetOptionValue()
		val := ""
		if v.Value != nil {
			val = fmt.Sprint(v.Value)
		}
		i, exists := index[v.Key]
		switch {
		case val == "" && exists:
			out = append(out[:i], out[i+1:]...)
			delete(index, v.Key)
			for k, j := range index {
				if j > i {
					index[k] = j - 1
				}
			}
		case val == "":
		case exists:
			out[i] = &types.OptionValue{Key: v.Key, Value: val}
		default:
			index[v.Key] = len(out)
			out = append(out, &types.OptionValue{Key: v.Key, Value: val})
		}
	}
	return out
}

func hwNumber(v string) (int, bool) {
	if !hwVersionRe.MatchString(v) {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(v, "vmx-"))
	return n, err == nil
}

// upgradeVM honours the version asked for and refuses while the VM runs.
// WORKAROUND for the simulator's UpgradeVM_Task, which always goes to vmx-13, even when on.
func (l *Lab) upgradeVM(ctx *callContext, m *simulator.Method) soap.HasFault {
	req := m.Body.(*types.UpgradeVM_Task)
	return withVM(m.This, func(vm *simulator.VirtualMachine) soap.HasFault {
		t := newTask(vm, "UpgradeVM_Task", "VirtualMachine.upgradeVirtualHardware", ctx.user)
		return taskBody("UpgradeVM_Task", runTask(t, func() (types.AnyType, *types.LocalizedMethodFault) {
			if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
				return nil, localized(&types.InvalidPowerState{
					RequestedState: types.VirtualMachinePowerStatePoweredOff, ExistingState: vm.Runtime.PowerState})
			}
			target := req.Version
			if target == "" {
				target = "vmx-13" // the newest this simulated vCenter knows
			}
			want, ok := hwNumber(target)
			if !ok {
				return nil, localized(&types.InvalidArgument{InvalidProperty: "version"})
			}
			if have, _ := hwNumber(vm.Config.Version); want <= have {
				return nil, localized(&types.AlreadyUpgraded{})
			}
			simulator.Map.Update(vm, []types.PropertyChange{
				{Name: "config.version", Val: target},
				{Name: "config.changeVersion", Val: l.nextChangeVersion()},
			})
			postEvent(ctx.sim(vm.Self), &types.VmUpgradeCompleteEvent{VmEvent: l.vmEvent(vm, *vm.Runtime.Host), Version: target})
			return nil, nil
		}))
	})
}

// capsScreen: one display, no auto-detect and at most 5,120 KB of video memory hold no more
// than 1280x1024 (workaround 1, the durable form).
func capsScreen(vm *simulator.VirtualMachine) bool {
	c := videoCard(vm)
	return c != nil && c.NumDisplays <= 1 && !boolOf(c.UseAutoDetect) && c.VideoRamSizeInKB <= capVRAMKB
}

func capScreen(vm *simulator.VirtualMachine, s *[2]int32) *[2]int32 {
	if s == nil || !capsScreen(vm) || int64(s[0])*int64(s[1]) <= capPixels {
		return s
	}
	return &[2]int32{1280, 1024}
}

// setGuest publishes the guest's state; a new GuestInfo each time, since the property
// collector may be encoding the old one.
func (l *Lab) setGuest(vm *simulator.VirtualMachine, running bool) {
	g := l.guests[vm.Self]
	if g == nil {
		return
	}
	guestID := ""
	var screen *[2]int32
	if running {
		guestID = g.toolsGuestID
		if guestID == "" {
			guestID = vm.Config.GuestId
		}
		screen = g.screen
	}
	info, summary := guestInfo(running, g.toolsInstalled, guestID, screen)
	withNetwork(info, summary, g)
	simulator.Map.Update(vm, []types.PropertyChange{
		{Name: "guest", Val: info},
		{Name: "summary.guest", Val: summary},
	})
}

func (l *Lab) powerOnVM(ctx *callContext, m *simulator.Method) soap.HasFault {
	req := m.Body.(*types.PowerOnVM_Task)
	return withVM(m.This, func(vm *simulator.VirtualMachine) soap.HasFault {
		body := vm.PowerOnVMTask(ctx.sim(vm.Self), req)
		b, ok := body.(*methods.PowerOnVM_TaskBody)
		if !ok || b.Res == nil {
			return body
		}
		if t := simulator.Map.Get(b.Res.Returnval).(*simulator.Task); t.Info.Error != nil {
			fixTaskMessage(t.Self)
			return body
		}
		// Tools start with the guest; a capped video card holds the desktop to 1280x1024.
		if g := l.guests[vm.Self]; g != nil {
			g.screen = capScreen(vm, g.screen)
			l.setGuest(vm, g.toolsInstalled)
		}
		return body
	})
}

func (l *Lab) powerOffVM(ctx *callContext, m *simulator.Method) soap.HasFault {
	req := m.Body.(*types.PowerOffVM_Task)
	return withVM(m.This, func(vm *simulator.VirtualMachine) soap.HasFault {
		body := vm.PowerOffVMTask(ctx.sim(vm.Self), req)
		if b, ok := body.(*methods.PowerOffVM_TaskBody); ok && b.Res != nil {
			if t := simulator.Map.Get(b.Res.Returnval).(*simulator.Task); t.Info.Error != nil {
				fixTaskMessage(t.Self)
				return body
			}
			l.setGuest(vm, false)
			l.runScheduledUpgrade(ctx.sim(vm.Self), vm, false)
		}
		return body
	})
}

func toolsRunning(vm *simulator.VirtualMachine) bool {
	return vm.Guest != nil && vm.Guest.ToolsRunningStatus == string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
}

// guestCallFault is what vCenter answers for a guest call (shutdown, reboot) that cannot run.
func guestCallFault(vm *simulator.VirtualMachine) soap.HasFault {
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		f := &types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOn, ExistingState: vm.Runtime.PowerState}
		return soapFaultBody(faultMessage(f), f)
	}
	if !toolsRunning(vm) {
		return soapFaultBody(faultMessage(&types.ToolsUnavailable{}), &types.ToolsUnavailable{})
	}
	return nil
}

// shutdownGuest asks Tools to shut the guest down: the call returns at once and the VM powers
// off a moment later, so a client sees the transition as with vCenter.
// WORKAROUND for the simulator's ShutdownGuest, which is instant and does not need Tools.
func (l *Lab) shutdownGuest(ctx *callContext, m *simulator.Method) soap.HasFault {
	return withVM(m.This, func(vm *simulator.VirtualMachine) soap.HasFault {
		if f := guestCallFault(vm); f != nil {
			return f
		}
		sim := ctx.sim(vm.Self)
		postEvent(sim, &types.VmGuestShutdownEvent{VmEvent: l.vmEvent(vm, *vm.Runtime.Host)})
		go l.finishShutdown(sim, vm.Self)
		return &methods.ShutdownGuestBody{Res: &types.ShutdownGuestResponse{}}
	})
}

func (l *Lab) finishShutdown(sim *simulator.Context, ref types.ManagedObjectReference) {
	select {
	case <-time.After(l.shutdownDelay):
	case <-l.stopping:
		return
	}
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	sim.Caller = nil
	simulator.Map.WithLock(vm, func() {
		if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			return
		}
		off := types.VirtualMachinePowerStatePoweredOff
		simulator.Map.Update(vm, []types.PropertyChange{
			{Name: "runtime.powerState", Val: off},
			{Name: "summary.runtime.powerState", Val: off},
			{Name: "runtime.bootTime", Val: nil},
			{Name: "summary.runtime.bootTime", Val: nil},
		})
		l.setGuest(vm, false)
		postEvent(sim, &types.VmPoweredOffEvent{VmEvent: l.vmEvent(vm, *vm.Runtime.Host)})
		l.runScheduledUpgrade(sim, vm, true)
	})
}

// runScheduledUpgrade applies a scheduled hardware upgrade when the VM goes off: "always" on
// any power-off, "onSoftPowerOff" only after a guest shutdown. This is how a vmx-07 VM at
// risk becomes an affected vmx-08 one (condition C3).
func (l *Lab) runScheduledUpgrade(sim *simulator.Context, vm *simulator.VirtualMachine, soft bool) {
	up := vm.Config.ScheduledHardwareUpgradeInfo
	if up == nil || up.UpgradePolicy == "never" || (up.UpgradePolicy == "onSoftPowerOff" && !soft) {
		return
	}
	want, ok := hwNumber(up.VersionKey)
	have, _ := hwNumber(vm.Config.Version)
	if !ok || want <= have {
		return
	}
	done := *up
	done.ScheduledHardwareUpgradeStatus = string(types.ScheduledHardwareUpgradeInfoHardwareUpgradeStatusSuccess)
	simulator.Map.Update(vm, []types.PropertyChange{
		{Name: "config.version", Val: up.VersionKey},
		{Name: "config.scheduledHardwareUpgradeInfo", Val: &done},
		{Name: "config.changeVersion", Val: l.nextChangeVersion()},
	})
	postEvent(sim, &types.VmUpgradeCompleteEvent{VmEvent: l.vmEvent(vm, *vm.Runtime.Host), Version: up.VersionKey})
}

func (l *Lab) rebootGuest(ctx *callContext, m *simulator.Method) soap.HasFault {
	return withVM(m.This, func(vm *simulator.VirtualMachine) soap.HasFault {
		if f := guestCallFault(vm); f != nil {
			return f
		}
		postEvent(ctx.sim(vm.Self), &types.VmGuestRebootEvent{VmEvent: l.vmEvent(vm, *vm.Runtime.Host)})
		return &methods.RebootGuestBody{Res: &types.RebootGuestResponse{}}
	})
}
