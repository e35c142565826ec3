package main

// The ticket mode (-vm NAME): what a Go program written with govmomi does to judge one VM from
// its name, timed from the start of the process: log in (NewClient: the service content, then
// Login), find the VM by name through a container view (the view, the names, the view
// destroyed after use), then read the VM, its host and its cluster, this user's privileges on
// it and its failure events, one call after the other as govmomi's API invites.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"net/url"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

type ticketResult struct {
	Seconds    float64 `json:"seconds"`
	LoginS     float64 `json:"login_s"`
	RoundTrips int     `json:"round_trips"`
	VM         string  `json:"vm"`
	Events     int     `json:"events"`
}

// The article's event types (wizard/vsphere/evidence.py's EVENT_TYPES).
var failureEvents = []string{
	"VmFailedMigrateEvent", "VmFailedRelocateEvent", "VmRelocateFailedEvent", "MigrationErrorEvent",
	"MigrationHostErrorEvent", "MigrationResourceErrorEvent", "TaskEvent",
}

func ticket(ctx context.Context, started time.Time, u *url.URL, name string) (ticketResult, error) {
	out := ticketResult{}
	c, err := govmomi.NewClient(ctx, u, true)
	out.RoundTrips += 2 // RetrieveServiceContent, Login
	if err != nil {
		return out, fmt.Errorf("login: %w", err)
	}
	defer func() { _ = c.Logout(ctx) }()
	out.LoginS = time.Since(started).Seconds()

	m := view.NewManager(c.Client)
	v, err := m.CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	out.RoundTrips++
	if err != nil {
		return out, err
	}
	var found []mo.VirtualMachine
	err = v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"name"}, &found)
	out.RoundTrips++
	if err != nil {
		return out, err
	}
	var ref *types.ManagedObjectReference
	for _, vm := range found {
		if vm.Name == name {
			r := vm.Self
			ref = &r
			break
		}
	}
	if ref == nil {
		return out, fmt.Errorf("no VM named %q", name)
	}
	pc := property.DefaultCollector(c.Client)
	var vm mo.VirtualMachine
	err = pc.RetrieveOne(ctx, *ref, []string{"name", "config", "guest", "runtime"}, &vm)
	out.RoundTrips++
	if err != nil {
		return out, err
	}
	var host mo.HostSystem
	if vm.Runtime.Host != nil {
		err = pc.RetrieveOne(ctx, *vm.Runtime.Host, []string{"name", "parent", "summary.hardware",
			"config.featureCapability", "hardware.cpuFeature", "runtime"}, &host)
		out.RoundTrips++
		if err != nil {
			return out, err
		}
	}
	if host.Parent != nil && host.Parent.Type == "ClusterComputeResource" {
		var cluster mo.ClusterComputeResource
		err = pc.RetrieveOne(ctx, *host.Parent, []string{"name", "configurationEx", "summary", "host"}, &cluster)
		out.RoundTrips++
		if err != nil {
			return out, err
		}
	}
	session, err := c.SessionManager.UserSession(ctx)
	out.RoundTrips++
	if err != nil {
		return out, err
	}
	_, err = methods.HasPrivilegeOnEntities(ctx, c.Client, &types.HasPrivilegeOnEntities{
		This:      *c.ServiceContent.AuthorizationManager,
		Entity:    []types.ManagedObjectReference{*ref},
		SessionId: session.Key,
		PrivId:    []string{"VirtualMachine.Config.AdvancedConfig", "VirtualMachine.Interact.PowerOff"},
	})
	out.RoundTrips++
	if err != nil {
		return out, err
	}
	begin := time.Now().AddDate(0, 0, -30)
	events, err := methods.QueryEvents(ctx, c.Client, &types.QueryEvents{
		This: *c.ServiceContent.EventManager,
		Filter: types.EventFilterSpec{
			Entity:      &types.EventFilterSpecByEntity{Entity: *ref, Recursion: types.EventFilterSpecRecursionOptionSelf},
			Time:        &types.EventFilterSpecByTime{BeginTime: &begin},
			EventTypeId: failureEvents,
		},
	})
	out.RoundTrips++
	if err != nil {
		return out, err
	}
	out.Seconds = time.Since(started).Seconds()
	out.VM, out.Events = ref.Value, len(events.Returnval)
	// The answer is printed as soon as it is known; destroying the view and logging out follow.
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		return out, err
	}
	_ = v.Destroy(ctx)
	return out, nil
}
