// Command goclient is the benchmark's peer for the VM picker's bulk read: govmomi's own client
// reads the same properties as wizard.vsphere.inventory.list_vms through a container view,
// decodes them fully into govmomi's managed object types and builds the same rows (VM name,
// power state, guest ids, hardware version, host and cluster names, Tools status).
//
// It logs in once, then times the read -runs times and prints one line of JSON:
// {"vms": N, "hosts": N, "clusters": N, "seconds": [...], "round_trips": N}.
// With -vm NAME it judges one VM from a ticket instead (ticket.go).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// The property set of list_vms (wizard/vsphere/inventory.py).
var vmProps = []string{
	"name",
	"runtime.powerState",
	"config.guestId",
	"guest.guestId",
	"config.version",
	"runtime.host",
	"guest.toolsRunningStatus",
}

type row struct {
	name, moref, power, guestID, toolsGuestID, version, host, cluster string
	toolsRunning                                                      bool
}

type result struct {
	VMs        int       `json:"vms"`
	Hosts      int       `json:"hosts"`
	Clusters   int       `json:"clusters"`
	Seconds    []float64 `json:"seconds"`
	RoundTrips int       `json:"round_trips"`
}

func filterSpec(viewRef types.ManagedObjectReference) types.PropertyFilterSpec {
	return types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{
			Obj:  viewRef,
			Skip: types.NewBool(true),
			SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{
				SelectionSpec: types.SelectionSpec{Name: "view"},
				Type:          "ContainerView",
				Path:          "view",
				Skip:          types.NewBool(false),
			}},
		}},
		PropSet: []types.PropertySpec{
			{Type: "VirtualMachine", PathSet: vmProps},
			{Type: "HostSystem", PathSet: []string{"name", "parent"}},
			{Type: "ClusterComputeResource", PathSet: []string{"name"}},
		},
	}
}

// readAll makes the same requests as list_vms: CreateContainerView, RetrievePropertiesEx (and
// ContinueRetrievePropertiesEx per further page), DestroyView; it returns the rows and the
// number of round trips.
func readAll(ctx context.Context, c *govmomi.Client) ([]row, int, int, int, error) {
	trips := 0
	m := view.NewManager(c.Client)
	v, err := m.CreateContainerView(
		ctx, c.ServiceContent.RootFolder,
		[]string{"VirtualMachine", "HostSystem", "ClusterComputeResource"}, true)
	trips++
	if err != nil {
		return nil, trips, 0, 0, err
	}
	defer func() { _ = v.Destroy(ctx) }()
	trips++ // DestroyView

	req := types.RetrievePropertiesEx{
		This:    c.ServiceContent.PropertyCollector,
		SpecSet: []types.PropertyFilterSpec{filterSpec(v.Reference())},
		Options: types.RetrieveOptions{MaxObjects: 50000}, // as the product asks
	}
	res, err := methods.RetrievePropertiesEx(ctx, c.Client, &req)
	trips++
	if err != nil {
		return nil, trips, 0, 0, err
	}
	var contents []types.ObjectContent
	page := res.Returnval
	for page != nil {
		contents = append(contents, page.Objects...)
		if page.Token == "" {
			break
		}
		next, err := methods.ContinueRetrievePropertiesEx(ctx, c.Client,
			&types.ContinueRetrievePropertiesEx{This: req.This, Token: page.Token})
		trips++
		if err != nil {
			return nil, trips, 0, 0, err
		}
		page = &next.Returnval
	}

	var vms []mo.VirtualMachine
	hosts := map[string]mo.HostSystem{}
	clusters := map[string]string{}
	for _, oc := range contents {
		obj, err := mo.ObjectContentToType(oc)
		if err != nil {
			return nil, trips, 0, 0, err
		}
		switch o := obj.(type) {
		case mo.VirtualMachine:
			vms = append(vms, o)
		case mo.HostSystem:
			hosts[o.Self.Value] = o
		case mo.ClusterComputeResource:
			clusters[o.Self.Value] = o.Name
		}
	}
	rows := make([]row, 0, len(vms))
	for _, vm := range vms {
		r := row{name: unescape(vm.Name), moref: vm.Self.Value, power: string(vm.Runtime.PowerState)}
		if vm.Config != nil {
			r.guestID, r.version = vm.Config.GuestId, vm.Config.Version
		}
		if vm.Guest != nil {
			r.toolsGuestID = vm.Guest.GuestId
			r.toolsRunning = vm.Guest.ToolsRunningStatus == "guestToolsRunning"
		}
		if vm.Runtime.Host != nil {
			if h, ok := hosts[vm.Runtime.Host.Value]; ok {
				r.host = unescape(h.Name)
				if h.Parent != nil {
					r.cluster = unescape(clusters[h.Parent.Value])
				}
			}
		}
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := strings.ToLower(rows[i].name), strings.ToLower(rows[j].name)
		if a != b {
			return a < b
		}
		return rows[i].moref < rows[j].moref
	})
	return rows, trips, len(hosts), len(clusters), nil
}

// unescape undoes vSphere's escaping of '%', '/' and '\' in names, as the Python side does.
func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

func main() {
	started := time.Now()
	rawURL := flag.String("url", "", "the SDK URL, https://host:port/sdk")
	user := flag.String("user", "", "user name")
	password := flag.String("password", "", "password (read from the environment GOCLIENT_PASSWORD when empty)")
	runs := flag.Int("runs", 3, "how many times to time the read")
	vmName := flag.String("vm", "", "ticket mode: judge this VM from its name (see ticket.go)")
	flag.Parse()
	if *password == "" {
		*password = os.Getenv("GOCLIENT_PASSWORD")
	}
	u, err := url.Parse(*rawURL)
	if err != nil || *rawURL == "" {
		fmt.Fprintln(os.Stderr, "goclient: -url https://host:port/sdk is required")
		os.Exit(2)
	}
	u.User = url.UserPassword(*user, *password)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if *vmName != "" {
		if _, err := ticket(ctx, started, u, *vmName); err != nil {
			fmt.Fprintln(os.Stderr, "goclient: ticket:", err)
			os.Exit(1)
		}
		return
	}
	// The lab's certificate is self-signed; TLS verification is not what is measured here.
	c, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goclient: login:", err)
		os.Exit(1)
	}
	defer func() { _ = c.Logout(ctx) }()

	out := result{}
	for i := 0; i < *runs; i++ {
		start := time.Now()
		rows, trips, hosts, clusters, err := readAll(ctx, c)
		elapsed := time.Since(start).Seconds()
		if err != nil {
			fmt.Fprintln(os.Stderr, "goclient: read:", err)
			os.Exit(1)
		}
		out.VMs, out.Hosts, out.Clusters, out.RoundTrips = len(rows), hosts, clusters, trips
		out.Seconds = append(out.Seconds, elapsed)
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		os.Exit(1)
	}
}
