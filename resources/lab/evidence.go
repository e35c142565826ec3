package main

// history.failed_vmotion: the evidence a past failed vMotion left, seeded at start — a failed
// task, its TaskEvent, the VmFailedMigrateEvent and the article's lines in vmware.log.

import (
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

func (l *Lab) seedFailedVMotion(ref types.ManagedObjectReference, start time.Time) {
	vm := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	at := start.Add(-2 * time.Hour)
	done := at.Add(41 * time.Second)
	src := *vm.Runtime.Host
	dst := src
	for _, h := range l.hosts {
		if h != src {
			dst = h
			if l.poolOfHost[h] == l.poolOfHost[src] {
				break // prefer a host of the same cluster, as DRS or a technician would
			}
		}
	}
	d := assess(vm)
	if d.buffer >= d.required {
		// Mitigated since: the failure happened with the default buffer.
		d.buffer = defaultCptCache
	}
	sim := sessionContext(l.sc.Login.User, "lab-history")
	sim.Caller = &ref

	t := newTask(vm, "RelocateVM_Task", "VirtualMachine.relocate", l.sc.Login.User)
	runTask(t, func() (types.AnyType, *types.LocalizedMethodFault) { return nil, checkpointFault(d) })
	simulator.Map.Update(t, []types.PropertyChange{
		{Name: "info.queueTime", Val: at},
		{Name: "info.startTime", Val: at},
		{Name: "info.completeTime", Val: done},
	})

	taskEvent := &types.TaskEvent{Event: l.vmEvent(vm, src).Event, Info: t.Info}
	taskEvent.FullFormattedMessage = "Task: Relocate virtual machine"
	beingMigrated := &types.VmBeingHotMigratedEvent{VmEvent: l.vmEvent(vm, src), DestHost: *hostArg(dst)}
	postEvent(sim, taskEvent, beingMigrated)
	_, failed := l.failMigration(sim, vm, src, dst, d, done)

	// The EventManager keeps the posted events themselves: dating them to the past failure
	// is enough (the lab is not serving yet, so nobody reads them meanwhile).
	taskEvent.CreatedTime = at
	beingMigrated.CreatedTime = at
	beingMigrated.ChainId = taskEvent.Key
	failed.CreatedTime = done
	failed.ChainId = taskEvent.Key
}
