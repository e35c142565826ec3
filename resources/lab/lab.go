package main

// The lab's state beside the simulator's registry, and the helpers to run a task and post an
// event as the calling user.

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

var serviceInstance = vim25.ServiceInstance

// Lab is one running training lab.
type Lab struct {
	sc       *Scenario
	model    *simulator.Model
	internal *simulator.Context // the lab's own calls while building

	dcRef      types.ManagedObjectReference
	vmFolder   types.ManagedObjectReference
	dsDir      string
	tempDirs   []string
	hosts      []types.ManagedObjectReference
	hostByName map[string]types.ManagedObjectReference
	poolOfHost map[types.ManagedObjectReference]types.ManagedObjectReference
	vmByName   map[string]types.ManagedObjectReference
	guests     map[types.ManagedObjectReference]*guestModel // fixed after build; fields under the VM's lock

	accounts map[string]Account

	mu            sync.Mutex
	sessions      map[string]string       // session key (the vmware_soap_session cookie) -> user
	pages         map[string]*pagedResult // token -> what is left of a paged read (paging.go)
	nextToken     int64
	lastChange    time.Time
	nextPid       int64
	shutdownDelay time.Duration
	delay         *simulator.DelayConfig
	next          http.Handler
	stopping      chan struct{}
	certs         *certStore // the TLS certificates and the authority's download (tls.go)
}

// NewLab prepares a lab for a validated scenario.
func NewLab(sc *Scenario) *Lab {
	l := &Lab{
		sc:            sc,
		hostByName:    map[string]types.ManagedObjectReference{},
		poolOfHost:    map[types.ManagedObjectReference]types.ManagedObjectReference{},
		vmByName:      map[string]types.ManagedObjectReference{},
		guests:        map[types.ManagedObjectReference]*guestModel{},
		accounts:      map[string]Account{sc.Login.User: sc.Login},
		sessions:      map[string]string{},
		pages:         map[string]*pagedResult{},
		nextPid:       4100,
		shutdownDelay: 500 * time.Millisecond,
		stopping:      make(chan struct{}),
	}
	for _, u := range sc.Users {
		l.accounts[u.User] = u
	}
	l.internal = sessionContext("vpxd@lab.local", "lab-internal")
	return l
}

// errStopped: the lab was asked to stop before it was ready.
var errStopped = errors.New("asked to stop")

// stopRequested tells a long start (thousands of filler VMs) to give up.
func (l *Lab) stopRequested() bool {
	select {
	case <-l.stopping:
		return true
	default:
		return false
	}
}

// Cleanup removes every file the lab created (the datastore folder with the VMs' files).
func (l *Lab) Cleanup() {
	if l.model != nil {
		l.model.Remove()
	}
	for _, d := range l.tempDirs {
		_ = os.RemoveAll(d)
	}
}

// sessionContext is a simulator call context for a user. The simulator's own contexts carry
// the HTTP request too; the methods the lab calls directly only need the session's user.
func sessionContext(user, key string) *simulator.Context {
	return &simulator.Context{
		Context: context.Background(),
		Session: &simulator.Session{
			UserSession: types.UserSession{Key: key, UserName: user, FullName: user},
			Registry:    simulator.NewRegistry(),
		},
		Map: simulator.Map,
	}
}

// nextChangeVersion gives a new, strictly increasing config.changeVersion in vCenter's
// style (a UTC timestamp with microseconds).
func (l *Lab) nextChangeVersion() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now().UTC().Truncate(time.Microsecond)
	if !now.After(l.lastChange) {
		now = l.lastChange.Add(time.Microsecond)
	}
	l.lastChange = now
	return now.Format("2006-01-02T15:04:05.000000Z")
}

// newTask creates a queued task as the simulator does, named and described like vCenter's.
func newTask(obj mo.Reference, name, descriptionID, user string) *simulator.Task {
	t := simulator.CreateTask(obj, name, nil)
	simulator.Map.Update(t, []types.PropertyChange{
		{Name: "info.name", Val: name},
		{Name: "info.descriptionId", Val: descriptionID},
		{Name: "info.reason", Val: &types.TaskReasonUser{UserName: user}},
	})
	return t
}

// runTask runs f as task t and records its outcome. Unlike the simulator's Task.Run, a failed
// task gets a real localized message rather than the Go type name of its fault.
func runTask(t *simulator.Task, f func() (types.AnyType, *types.LocalizedMethodFault)) types.ManagedObjectReference {
	simulator.Map.Update(t, []types.PropertyChange{
		{Name: "info.startTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateRunning},
	})
	res, lmf := f()
	state := types.TaskInfoStateSuccess
	var fault interface{}
	if lmf != nil {
		state = types.TaskInfoStateError
		fault = *lmf
	}
	simulator.Map.Update(t, []types.PropertyChange{
		{Name: "info.completeTime", Val: time.Now()},
		{Name: "info.state", Val: state},
		{Name: "info.result", Val: res},
		{Name: "info.error", Val: fault},
		{Name: "info.progress", Val: int32(100)},
	})
	return t.Self
}

// fixTaskMessage gives a task that the simulator failed a real localized message.
// WORKAROUND for the simulator's LocalizedMessage, which is the fault's Go type name.
func fixTaskMessage(ref types.ManagedObjectReference) {
	t, ok := simulator.Map.Get(ref).(*simulator.Task)
	if !ok || t.Info.Error == nil {
		return
	}
	lmf := *t.Info.Error
	lmf.LocalizedMessage = faultMessage(lmf.Fault)
	simulator.Map.Update(t, []types.PropertyChange{{Name: "info.error", Val: lmf}})
}

// faultMessage is the text vCenter shows for the faults the lab gives.
func faultMessage(f types.BaseMethodFault) string {
	switch x := f.(type) {
	case *types.InvalidPowerState:
		return "The attempted operation cannot be performed in the current state (" + powerText(x.ExistingState) + ")."
	case *types.ConcurrentAccess:
		return "Cannot complete operation due to concurrent modification by another operation."
	case *types.AlreadyUpgraded:
		return "Virtual machine compatibility is already up-to-date."
	case *types.InvalidArgument:
		if x.InvalidProperty != "" {
			return "A specified parameter was not correct: " + x.InvalidProperty
		}
		return "A specified parameter was not correct."
	case *types.InvalidDeviceSpec:
		return "Invalid configuration for device '" + itoa(int64(x.DeviceIndex)) + "'."
	case *types.NotSupported:
		return "The operation is not supported on the object."
	case *types.ToolsUnavailable:
		return "Cannot complete operation because VMware Tools is not running in this virtual machine."
	case *types.GuestOperationsUnavailable:
		return "The guest operations agent could not be contacted."
	case *types.InvalidGuestLogin:
		return "Failed to authenticate with the guest operating system using the supplied credentials."
	case *types.InvalidState:
		return "The operation is not allowed in the current state."
	case *types.SystemError:
		return "A general system error occurred: " + x.Reason
	case *types.ManagedObjectNotFound:
		return "The object '" + x.Obj.Value + "' has already been deleted or has not been completely created"
	case *types.NoPermission:
		return "Permission to perform this operation was denied."
	case *types.NotFound:
		return "The object or item referred to could not be found."
	case *types.DuplicateName:
		return "The name '" + x.Name + "' already exists."
	case *types.FileAlreadyExists:
		return "Cannot complete the operation because the file or folder " + x.File + " already exists"
	case *types.FileNotFound:
		return "File " + x.File + " was not found"
	case *types.InvalidVmConfig:
		return "Invalid virtual machine configuration."
	case *types.TaskInProgress:
		return "The operation is not allowed in the current state."
	}
	return "A general system error occurred: " + faultText(f)
}

func powerText(s types.VirtualMachinePowerState) string {
	switch s {
	case types.VirtualMachinePowerStatePoweredOn:
		return "Powered on"
	case types.VirtualMachinePowerStatePoweredOff:
		return "Powered off"
	case types.VirtualMachinePowerStateSuspended:
		return "Suspended"
	}
	return string(s)
}

func localized(f types.BaseMethodFault) *types.LocalizedMethodFault {
	return &types.LocalizedMethodFault{Fault: f, LocalizedMessage: faultMessage(f)}
}

// postEvent posts events as the context's user, holding the EventManager's lock as the
// simulator's own postEvent does.
func postEvent(ctx *simulator.Context, events ...types.BaseEvent) {
	em := simulator.Map.EventManager()
	simulator.Map.WithLock(em, func() {
		for _, e := range events {
			em.PostEvent(ctx, &types.PostEvent{EventToPost: e})
		}
	})
}

// vmEvent fills the common arguments of an event about vm on host.
func (l *Lab) vmEvent(vm *simulator.VirtualMachine, hostRef types.ManagedObjectReference) types.VmEvent {
	e := types.VmEvent{}
	e.Vm = &types.VmEventArgument{EntityEventArgument: types.EntityEventArgument{Name: vm.Name}, Vm: vm.Self}
	e.Host = hostArg(hostRef)
	if dc, ok := simulator.Map.Get(l.dcRef).(*simulator.Datacenter); ok {
		e.Datacenter = &types.DatacenterEventArgument{EntityEventArgument: types.EntityEventArgument{Name: dc.Name}, Datacenter: dc.Self}
	}
	if h, ok := simulator.Map.Get(hostRef).(*simulator.HostSystem); ok && h.Parent != nil {
		if cr, ok := simulator.Map.Get(*h.Parent).(*simulator.ClusterComputeResource); ok {
			e.ComputeResource = &types.ComputeResourceEventArgument{
				EntityEventArgument: types.EntityEventArgument{Name: cr.Name}, ComputeResource: cr.Self}
		}
	}
	return e
}

func hostArg(ref types.ManagedObjectReference) *types.HostEventArgument {
	name := ref.Value
	if h, ok := simulator.Map.Get(ref).(*simulator.HostSystem); ok {
		name = h.Name
	}
	return &types.HostEventArgument{EntityEventArgument: types.EntityEventArgument{Name: name}, Host: ref}
}

// fixEventTemplates repairs the simulator's event description for VmMigratedEvent, whose
// template does not parse ("{{.SourceHost.Name},") and would panic the EventManager, and adds
// the descriptions of the events the lab posts that the simulator never does.
func fixEventTemplates() {
	em := simulator.Map.EventManager()
	infos := make([]types.EventDescriptionEventDetail, len(em.Description.EventInfo))
	copy(infos, em.Description.EventInfo)
	for i := range infos {
		if infos[i].Key == "VmMigratedEvent" {
			infos[i].FullFormat = "Migration of virtual machine {{.Vm.Name}} from {{.SourceHost.Name}} to {{.Host.Name}} completed"
		}
	}
	// Events the lab posts that the simulator has no description for would have no message.
	infos = append(infos,
		types.EventDescriptionEventDetail{
			Key: "VmBeingHotMigratedEvent", Description: "VM is hot migrating", Category: "info",
			FullFormat: "Migrating {{.Vm.Name}} from {{.Host.Name}} to {{.DestHost.Name}} in {{.Datacenter.Name}}",
		},
		types.EventDescriptionEventDetail{
			Key: "VmUpgradeCompleteEvent", Description: "VM compatibility upgraded", Category: "info",
			FullFormat: "Virtual machine compatibility of {{.Vm.Name}} on {{.Host.Name}} upgraded to {{.Version}}",
		},
	)
	em.Description.EventInfo = infos
}

func itoa(n int64) string {
	return strconv.FormatInt(n, 10)
}
