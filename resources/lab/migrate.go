package main

// vMotion: RelocateVM_Task and MigrateVM_Task, with the article's failure.
// WORKAROUND for the simulator's RelocateVM_Task, which moves runtime.host but leaves the
// hosts' and pools' VM lists as they were and posts no migration event, and for
// MigrateVM_Task, which it does not implement.

import (
	"fmt"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func (l *Lab) relocateVM(ctx *callContext, m *simulator.Method) soap.HasFault {
	req := m.Body.(*types.RelocateVM_Task)
	return l.migrate(ctx, m.This, req.Spec.Host, req.Spec.Pool, "", "RelocateVM_Task", "VirtualMachine.relocate")
}

// migrateVM is the older call; vCenter runs it as a relocation to the host and pool given.
func (l *Lab) migrateVM(ctx *callContext, m *simulator.Method) soap.HasFault {
	req := m.Body.(*types.MigrateVM_Task)
	return l.migrate(ctx, m.This, req.Host, req.Pool, req.State, "MigrateVM_Task", "VirtualMachine.migrate")
}

func (l *Lab) migrate(ctx *callContext, ref types.ManagedObjectReference, host, pool *types.ManagedObjectReference,
	state types.VirtualMachinePowerState, method, descriptionID string) soap.HasFault {
	return withVM(ref, func(vm *simulator.VirtualMachine) soap.HasFault {
		t := newTask(vm, method, descriptionID, ctx.user)
		return taskBody(method, runTask(t, func() (types.AnyType, *types.LocalizedMethodFault) {
			return nil, l.move(ctx, vm, host, pool, state)
		}))
	})
}

func (l *Lab) move(ctx *callContext, vm *simulator.VirtualMachine, host, pool *types.ManagedObjectReference,
	state types.VirtualMachinePowerState) *types.LocalizedMethodFault {
	if state != "" && state != vm.Runtime.PowerState {
		return localized(&types.InvalidPowerState{RequestedState: state, ExistingState: vm.Runtime.PowerState})
	}
	src := *vm.Runtime.Host
	dst := src
	if host != nil {
		if _, ok := simulator.Map.Get(*host).(*simulator.HostSystem); !ok {
			return localized(&types.InvalidArgument{InvalidProperty: "host"})
		}
		dst = *host
	}
	newPool := *vm.ResourcePool
	switch {
	case pool != nil:
		if _, ok := simulator.Map.Get(*pool).(*simulator.ResourcePool); !ok {
			return localized(&types.InvalidArgument{InvalidProperty: "pool"})
		}
		newPool = *pool
	case dst != src:
		newPool = l.poolOfHost[dst]
	}
	sim := ctx.sim(vm.Self)
	hot := vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn

	if hot && dst != src {
		postEvent(sim, &types.VmBeingHotMigratedEvent{VmEvent: l.vmEvent(vm, src), DestHost: *hostArg(dst)})
		if d := assess(vm); d.affected {
			lmf, _ := l.failMigration(sim, vm, src, dst, d, time.Now())
			return lmf
		}
	}

	if dst != src {
		moveRef(src, dst, vm.Self, func(o mo.Reference) *[]types.ManagedObjectReference {
			return &o.(*simulator.HostSystem).Vm
		}, "vm")
	}
	if newPool != *vm.ResourcePool {
		moveRef(*vm.ResourcePool, newPool, vm.Self, func(o mo.Reference) *[]types.ManagedObjectReference {
			return &o.(*simulator.ResourcePool).Vm
		}, "vm")
	}
	simulator.Map.Update(vm, []types.PropertyChange{
		{Name: "runtime.host", Val: dst},
		{Name: "summary.runtime.host", Val: dst},
		{Name: "resourcePool", Val: newPool},
	})
	if dst != src {
		postEvent(sim, &types.VmMigratedEvent{VmEvent: l.vmEvent(vm, dst), SourceHost: *hostArg(src)})
		if g := l.guests[vm.Self]; g != nil && hot {
			_ = appendLog(g.logPath, logLines(time.Now(),
				"Migrate: VM starting stun, waiting 100 seconds for go/no-go message.",
				"Migrate: Attempting to continue with the go message.",
				"Migrate: migration completed, the VM now runs on "+hostArg(dst).Name+"."))
		}
	}
	return nil
}

// moveRef takes ref out of one object's list and into another's, through Map.Update so that
// property collector clients see the change.
func moveRef(from, to, ref types.ManagedObjectReference, field func(mo.Reference) *[]types.ManagedObjectReference, prop string) {
	if o := simulator.Map.Get(from); o != nil {
		simulator.Map.WithLock(o, func() {
			var out []types.ManagedObjectReference
			for _, r := range *field(o) {
				if r != ref {
					out = append(out, r)
				}
			}
			simulator.Map.Update(o, []types.PropertyChange{{Name: prop, Val: out}})
		})
	}
	if o := simulator.Map.Get(to); o != nil {
		simulator.Map.WithLock(o, func() {
			list := append([]types.ManagedObjectReference{}, *field(o)...)
			simulator.Map.Update(o, []types.PropertyChange{{Name: prop, Val: append(list, ref)}})
		})
	}
}

// failMigration leaves the evidence vCenter leaves: a VmFailedMigrateEvent with the fault as
// its reason, and the article's lines in the VM's vmware.log.
func (l *Lab) failMigration(sim *simulator.Context, vm *simulator.VirtualMachine, src, dst types.ManagedObjectReference,
	d checkpointDemand, at time.Time) (*types.LocalizedMethodFault, *types.VmFailedMigrateEvent) {
	lmf := checkpointFault(d)
	dc := escapeName(l.sc.Datacenter)
	ev := &types.VmFailedMigrateEvent{VmEvent: l.vmEvent(vm, src), DestHost: *hostArg(dst), Reason: *lmf}
	ev.FullFormattedMessage = fmt.Sprintf("Cannot migrate %s from %s, %s to %s, %s in %s: %s",
		vm.Name, hostArg(src).Name, datastoreName, hostArg(dst).Name, datastoreName, dc, failureMessage)
	postEvent(sim, ev)
	if g := l.guests[vm.Self]; g != nil {
		id := fmt.Sprintf("%d", at.UnixNano()/1000)
		if err := appendLog(g.logPath, checkpointFailureLines(at, id, d.length, checkpointOffset, d.buffer)); err != nil {
			logf("writing %s: %v", g.logPath, err)
		}
	}
	return lmf, ev
}
