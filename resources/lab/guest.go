package main

// Guest operations. WORKAROUND for the simulator, which has no StartProgramInGuest without a
// container: the lab runs Tools' resolution tool (the article's workaround 1, "in the guest
// now") and answers every other program with a process id and exit code 0.

import (
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

type guestProcess struct {
	vm    types.ManagedObjectReference
	info  types.GuestProcessInfo
	owner string
}

var processes = map[int64]*guestProcess{} // under Lab.mu

// guestOpsFault is what vCenter answers when a guest operation cannot run.
func guestOpsFault(vm *simulator.VirtualMachine, auth types.BaseGuestAuthentication) types.BaseMethodFault {
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		return &types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOn, ExistingState: vm.Runtime.PowerState}
	}
	if !toolsRunning(vm) {
		return &types.GuestOperationsUnavailable{}
	}
	creds, ok := auth.(*types.NamePasswordAuthentication)
	if !ok || creds.Username == "" || creds.Password == "" {
		return &types.InvalidGuestLogin{}
	}
	return nil
}

// resolutionArgs reads "0 1 , 0 0 <width> <height>", the resolution tool's arguments.
func resolutionArgs(args string) (int32, int32, bool) {
	f := strings.Fields(strings.ReplaceAll(args, ",", " , "))
	if len(f) != 7 || f[2] != "," {
		return 0, 0, false
	}
	w, err1 := strconv.Atoi(f[5])
	h, err2 := strconv.Atoi(f[6])
	if err1 != nil || err2 != nil || w < 1 || h < 1 || w > 16384 || h > 16384 {
		return 0, 0, false
	}
	return int32(w), int32(h), true
}

func (l *Lab) startProgramInGuest(ctx *callContext, m *simulator.Method) soap.HasFault {
	req := m.Body.(*types.StartProgramInGuest)
	return withVM(req.Vm, func(vm *simulator.VirtualMachine) soap.HasFault {
		if f := guestOpsFault(vm, req.Auth); f != nil {
			return soapFaultBody(faultMessage(f), f)
		}
		spec := req.Spec.GetGuestProgramSpec()
		exit := int32(0)
		if strings.HasSuffix(strings.ToLower(strings.ReplaceAll(spec.ProgramPath, `\`, "/")), "vmwareresolutionset.exe") {
			exit = l.setResolution(vm, spec.Arguments)
		}
		now := time.Now()
		l.mu.Lock()
		l.nextPid++
		pid := l.nextPid
		user := ""
		if creds, ok := req.Auth.(*types.NamePasswordAuthentication); ok {
			user = creds.Username
		}
		processes[pid] = &guestProcess{vm: vm.Self, owner: user, info: types.GuestProcessInfo{
			Name: spec.ProgramPath, Pid: pid, Owner: user, CmdLine: strings.TrimSpace(spec.ProgramPath + " " + spec.Arguments),
			StartTime: now, EndTime: &now, ExitCode: exit,
		}}
		l.mu.Unlock()
		return &methods.StartProgramInGuestBody{Res: &types.StartProgramInGuestResponse{Returnval: pid}}
	})
}

// setResolution changes the guest's desktop, within what the video card can hold; the exit
// code is 1 when the arguments are not the tool's.
func (l *Lab) setResolution(vm *simulator.VirtualMachine, args string) int32 {
	w, h, ok := resolutionArgs(args)
	g := l.guests[vm.Self]
	if !ok || g == nil || vm.Guest.InteractiveGuestOperationsReady == nil || !*vm.Guest.InteractiveGuestOperationsReady {
		return 1
	}
	g.screen = capScreen(vm, &[2]int32{w, h})
	l.setGuest(vm, true)
	return 0
}

func (l *Lab) listProcessesInGuest(ctx *callContext, req *types.ListProcessesInGuest) soap.HasFault {
	return withVM(req.Vm, func(vm *simulator.VirtualMachine) soap.HasFault {
		if f := guestOpsFault(vm, req.Auth); f != nil {
			return soapFaultBody(faultMessage(f), f)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		var res []types.GuestProcessInfo
		want := map[int64]bool{}
		for _, p := range req.Pids {
			want[p] = true
		}
		for pid, p := range processes {
			if p.vm == vm.Self && (len(want) == 0 || want[pid]) {
				res = append(res, p.info)
			}
		}
		return &listProcessesBody{Res: &ListProcessesInGuestResponse{Returnval: res}}
	})
}

// listProcessesBody answers ListProcessesInGuest with exitCode always written.
// WORKAROUND for govmomi's GuestProcessInfo, whose exitCode is omitted when 0 (omitempty): a
// client would read "no exit code yet" for a program that succeeded.
type listProcessesBody struct {
	Res    *ListProcessesInGuestResponse
	Fault_ *soap.Fault
}

func (b *listProcessesBody) Fault() *soap.Fault { return b.Fault_ }

// ListProcessesInGuestResponse is named as the SOAP element it becomes.
type ListProcessesInGuestResponse struct {
	Returnval []types.GuestProcessInfo
}

// MarshalXML writes each process's fields by hand, exitCode included.
func (r *ListProcessesInGuestResponse) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, p := range r.Returnval {
		item := xml.StartElement{Name: xml.Name{Local: "returnval"}}
		if err := e.EncodeToken(item); err != nil {
			return err
		}
		fields := []struct {
			name  string
			value interface{}
		}{
			{"name", p.Name}, {"pid", p.Pid}, {"owner", p.Owner}, {"cmdLine", p.CmdLine},
			{"startTime", p.StartTime}, {"endTime", p.EndTime}, {"exitCode", p.ExitCode},
		}
		for _, f := range fields {
			if err := e.EncodeElement(f.value, xml.StartElement{Name: xml.Name{Local: f.name}}); err != nil {
				return err
			}
		}
		if err := e.EncodeToken(item.End()); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}
