package main

// Builds exactly the scenario's inventory: one datacenter, its clusters and hosts, one
// shared datastore, the scenario's VMs and the filler VMs. The simulator's model is asked for
// nothing (zero datacenters, hosts, VMs), so no default object has to be removed later.

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

const datastoreName = "datastore1"

// guestModel is what the guest really is, beyond what vSphere shows at the moment: a VM
// whose Tools are not running still has a desktop resolution, it is just not reported.
type guestModel struct {
	name           string // the scenario's name, unescaped
	toolsInstalled bool   // Tools start when the VM powers on
	toolsGuestID   string // what Tools report once running
	screen         *[2]int32
	logPath        string // vmware.log on the datastore
	dir            string // the VM's folder on the datastore
	dnsName        string // what Tools report as guest.hostName
	ip             string // what Tools report as guest.ipAddress
}

// guestNetwork gives every VM a DNS name made from its own name and an address of its own, as
// Tools report them, so a VM can be found by DNS name or IP as on a real vCenter. The
// addresses are data in answers only; nothing connects to them.
func guestNetwork(name string, index int) (string, string) {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	label := strings.Trim(b.String(), "-")
	if label == "" {
		label = fmt.Sprintf("vm%d", index)
	}
	return label + ".lab.local", fmt.Sprintf("10.20.%d.%d", index/250, index%250+1)
}

// withNetwork adds the guest's DNS name and address to what a running Tools reports.
func withNetwork(info *types.GuestInfo, summary *types.VirtualMachineGuestSummary, g *guestModel) {
	if g == nil || info.ToolsRunningStatus != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
		return
	}
	info.HostName, info.IpAddress = g.dnsName, g.ip
	summary.HostName, summary.IpAddress = g.dnsName, g.ip
}

// escapeName stores an entity name the way vCenter does: '%', '/' and '\' are escaped, in
// every inventory name (datacenter, cluster, host, VM).
func escapeName(name string) string {
	r := strings.NewReplacer("%", "%25", "/", "%2f", `\`, "%5c")
	return r.Replace(name)
}

// buildInventory creates the scenario's objects in the simulator's registry. It runs before
// the server listens, so no lock is contended and fields may be set directly.
func (l *Lab) buildInventory(fillers int) error {
	ctx := context.Background()
	model := simulator.VPX()
	model.Datacenter = 0
	model.Portgroup = 0
	model.Host = 0
	model.Cluster = 0
	model.ClusterHost = 0
	model.Datastore = 0
	model.Machine = 0
	model.Autostart = false
	if l.certs != nil {
		// Each lab is a vCenter of its own (tls.go): its identity goes with its authority.
		model.ServiceContent.About.InstanceUuid = l.certs.instanceUUID()
	}
	if err := model.Create(); err != nil {
		return err
	}
	l.model = model

	client, err := vim25.NewClient(ctx, model.Service)
	if err != nil {
		return err
	}

	// WORKAROUND for the simulator's VmMigratedEvent template ("{{.SourceHost.Name},"), which
	// fails to parse and panics the EventManager on the first migration event.
	fixEventTemplates()

	dc, err := object.NewRootFolder(client).CreateDatacenter(ctx, escapeName(l.sc.Datacenter))
	if err != nil {
		return err
	}
	l.dcRef = dc.Reference()
	folders, err := dc.Folders(ctx)
	if err != nil {
		return err
	}
	l.vmFolder = folders.VmFolder.Reference()

	// One datastore shared by every host, so any VM can move to any host.
	removeStaleTempDirs()
	dir, err := makeTempDir()
	if err != nil {
		return err
	}
	l.tempDirs = append(l.tempDirs, dir)
	l.dsDir = dir

	for _, c := range l.sc.Clusters {
		cluster, err := folders.HostFolder.CreateCluster(ctx, escapeName(c.Name), types.ClusterConfigSpecEx{})
		if err != nil {
			return fmt.Errorf("cluster %s: %w", c.Name, err)
		}
		setHA(simulator.Map.Get(cluster.Reference()).(*simulator.ClusterComputeResource), c)
		pool, err := cluster.ResourcePool(ctx)
		if err != nil {
			return err
		}
		for _, h := range c.Hosts {
			task, err := cluster.AddHost(ctx, types.HostConnectSpec{HostName: escapeName(h.Name)}, true, nil, nil)
			if err != nil {
				return err
			}
			info, err := task.WaitForResult(ctx, nil)
			if err != nil {
				return fmt.Errorf("host %s: %w", h.Name, err)
			}
			ref := info.Result.(types.ManagedObjectReference)
			host := object.NewHostSystem(client, ref)
			dss, err := host.ConfigManager().DatastoreSystem(ctx)
			if err != nil {
				return err
			}
			if _, err = dss.CreateLocalDatastore(ctx, datastoreName, dir); err != nil {
				return err
			}
			setCPU(simulator.Map.Get(ref).(*simulator.HostSystem), h)
			l.hosts = append(l.hosts, ref)
			l.hostByName[h.Name] = ref
			l.poolOfHost[ref] = pool.Reference()
		}
	}

	start := time.Now()
	for i := range l.sc.VMs {
		if l.stopRequested() {
			return errStopped
		}
		if err := l.addScenarioVM(&l.sc.VMs[i], start); err != nil {
			return fmt.Errorf("vm %s: %w", l.sc.VMs[i].Name, err)
		}
	}
	if err := l.addFillers(fillers, start); err != nil {
		return err
	}
	// Evidence of past failures is posted last: the simulator keeps only the newest 1000
	// events, and the creation events of thousands of filler VMs would push it out.
	for i := range l.sc.VMs {
		if l.sc.VMs[i].FailedVMotion {
			l.seedFailedVMotion(l.vmByName[l.sc.VMs[i].Name], start)
		}
	}
	return nil
}

func setHA(cl *simulator.ClusterComputeResource, c Cluster) {
	das := types.ClusterDasConfigInfo{
		Enabled:                 types.NewBool(c.HAEnabled),
		AdmissionControlEnabled: types.NewBool(c.AdmissionControl),
		VmMonitoring:            string(types.ClusterDasConfigInfoVmMonitoringStateVmMonitoringDisabled),
		HostMonitoring:          string(types.ClusterDasConfigInfoServiceStateEnabled),
		FailoverLevel:           1,
		AdmissionControlPolicy: &types.ClusterFailoverLevelAdmissionControlPolicy{
			FailoverLevel: 1,
		},
	}
	// WORKAROUND for HA settings that cannot be changed through the simulator's API.
	if cfg, ok := cl.ConfigurationEx.(*types.ClusterConfigInfoEx); ok {
		cfg.DasConfig = das
	}
	cl.Configuration.DasConfig = das
}

// setCPU gives a host the scenario's CPU model and SSE4.1 flag. The simulator's hardware
// info is a shallow copy of one shared default, so every slice is copied before changing it.
func setCPU(h *simulator.HostSystem, spec Host) {
	summary := *h.Summary.Hardware
	summary.CpuModel = spec.CPUModel
	h.Summary.Hardware = &summary

	hw := *h.Hardware
	hw.CpuPkg = make([]types.HostCpuPackage, len(h.Hardware.CpuPkg))
	for i, p := range h.Hardware.CpuPkg {
		p.Description = spec.CPUModel
		p.CpuFeature = withSSE41(p.CpuFeature, spec.SSE41)
		hw.CpuPkg[i] = p
	}
	hw.CpuFeature = withSSE41(h.Hardware.CpuFeature, spec.SSE41)
	h.Hardware = &hw

	flag := "0"
	if spec.SSE41 {
		flag = "1"
	}
	cfg := *h.Config
	cfg.FeatureCapability = []types.HostFeatureCapability{
		{Key: "cpuid.SSE3", FeatureName: "cpuid.SSE3", Value: "1"},
		{Key: "cpuid.SSSE3", FeatureName: "cpuid.SSSE3", Value: "1"},
		{Key: "cpuid.SSE41", FeatureName: "cpuid.SSE41", Value: flag},
		{Key: "cpuid.SSE42", FeatureName: "cpuid.SSE42", Value: flag},
	}
	h.Config = &cfg
}

// withSSE41 returns a copy of the CPUID leaves with CPUID level 1 ECX bit 19 (SSE4.1) set or
// cleared. vSphere writes a register as 32 characters, bit 31 first, in groups of four
// separated by ':' ("1001:0111:...").
func withSSE41(leaves []types.HostCpuIdInfo, on bool) []types.HostCpuIdInfo {
	out := make([]types.HostCpuIdInfo, len(leaves))
	copy(out, leaves)
	for i := range out {
		if out[i].Level == 1 {
			out[i].Ecx = setBit(out[i].Ecx, 19, on)
		}
	}
	return out
}

func setBit(reg string, bit int, on bool) string {
	bits := []byte(strings.ReplaceAll(reg, ":", ""))
	if len(bits) != 32 {
		bits = []byte(strings.Repeat("0", 32))
	}
	if on {
		bits[31-bit] = '1'
	} else {
		bits[31-bit] = '0'
	}
	var b strings.Builder
	for i := 0; i < 32; i += 4 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.Write(bits[i : i+4])
	}
	return b.String()
}

// vmDir is the VM's folder on the datastore: its escaped name, as vCenter names it, with what a
// folder name cannot keep written as %xx (UTF-8 bytes): control characters, the characters
// Windows reserves (the lab runs there too), white space at either end (the simulator trims it
// from the front of a datastore path) and a dot at the end (Windows drops it). Every '%' of the
// name is already %25, so no two names share a folder.
func vmDir(escaped string) string {
	if escaped == "." || escaped == ".." {
		return "vm-" + strings.ReplaceAll(escaped, ".", "dot")
	}
	runes := []rune(escaped)
	var b strings.Builder
	for i, r := range runes {
		first, last := i == 0, i == len(runes)-1
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`<>:"|?*`, r) ||
			((first || last) && unicode.IsSpace(r)) || (last && r == '.') {
			for _, c := range []byte(string(r)) {
				fmt.Fprintf(&b, "%%%02x", c)
			}
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// createVM creates one VM through the simulator's own CreateVM_Task, on the given host.
func (l *Lab) createVM(name, guestID, version string, host types.ManagedObjectReference) (*simulator.VirtualMachine, string, error) {
	escaped := escapeName(name)
	dir := vmDir(escaped)
	spec := types.VirtualMachineConfigSpec{
		// The simulator names the VM's files after it: a name a file may have (the real name
		// is given below).
		Name:     dir,
		GuestId:  guestID,
		Version:  version,
		NumCPUs:  2,
		MemoryMB: 4096,
		Files: &types.VirtualMachineFileInfo{
			VmPathName: fmt.Sprintf("[%s] %s/%s.vmx", datastoreName, dir, dir),
		},
	}
	folder := simulator.Map.Get(l.vmFolder).(*simulator.Folder)
	body := folder.CreateVMTask(l.internal, &types.CreateVM_Task{
		This:   l.vmFolder,
		Config: spec,
		Pool:   l.poolOfHost[host],
		Host:   &host,
	}).(*methods.CreateVM_TaskBody)
	task := simulator.Map.Get(body.Res.Returnval).(*simulator.Task)
	if task.Info.Error != nil {
		return nil, "", fmt.Errorf("%s", faultText(task.Info.Error.Fault))
	}
	vm := simulator.Map.Get(task.Info.Result.(types.ManagedObjectReference)).(*simulator.VirtualMachine)
	if dir != escaped {
		vm.Name, vm.Config.Name, vm.Summary.Config.Name = escaped, escaped, escaped
	}
	return vm, dir, nil
}

func (l *Lab) addScenarioVM(s *VMSpec, start time.Time) error {
	host := l.hostByName[s.Host]
	vm, dir, err := l.createVM(s.Name, s.GuestID, s.HardwareVersion, host)
	if err != nil {
		return err
	}
	dnsName, ip := guestNetwork(s.Name, len(l.guests)+1)
	g := &guestModel{
		dnsName:      dnsName,
		ip:           ip,
		name:         s.Name,
		toolsGuestID: s.ToolsGuestID,
		screen:       s.Screen,
		dir:          dir,
		logPath:      filepath.Join(l.dsDir, dir, "vmware.log"),
		// Tools are installed (and start with the guest) when they run, once reported a guest
		// id, or the VM is off; a powered-on VM with neither has none.
		toolsInstalled: s.ToolsRunning || s.ToolsGuestID != "" ||
			s.PowerState != string(types.VirtualMachinePowerStatePoweredOn),
	}
	l.guests[vm.Self] = g
	l.vmByName[s.Name] = vm.Self

	setVideo(vm, s.Displays, s.VRAMKB, s.AutoDetect, s.Enable3D)
	extra := make([]types.BaseOptionValue, 0, len(s.ExtraConfig))
	for _, kv := range s.ExtraConfig {
		extra = append(extra, &types.OptionValue{Key: kv[0], Value: kv[1]})
	}
	vm.Config.ExtraConfig = extra
	vm.Config.ScheduledHardwareUpgradeInfo = &types.ScheduledHardwareUpgradeInfo{
		UpgradePolicy:                  s.UpgradePolicy,
		VersionKey:                     s.UpgradeVersion,
		ScheduledHardwareUpgradeStatus: string(types.ScheduledHardwareUpgradeInfoHardwareUpgradeStatusNone),
	}
	initCommon(vm, s.GuestID, types.VirtualMachinePowerState(s.PowerState), l.nextChangeVersion(), start)

	// The scenario's Tools state is served as written at start; power operations change it.
	guestID := ""
	if s.ToolsRunning {
		guestID = s.ToolsGuestID
	}
	var screen *[2]int32
	if s.ToolsRunning {
		screen = s.Screen
	}
	vm.Guest, vm.Summary.Guest = guestInfo(s.ToolsRunning, g.toolsInstalled, guestID, screen)
	withNetwork(vm.Guest, vm.Summary.Guest, g)

	return writeStartLog(g.logPath, vm, s.Host, start)
}

// addFillers adds ordinary Linux VMs for scale, spread over the hosts.
func (l *Lab) addFillers(n int, start time.Time) error {
	used := map[string]bool{}
	for _, s := range l.sc.VMs {
		used[s.Name] = true
	}
	hostNames := map[types.ManagedObjectReference]string{}
	for name, ref := range l.hostByName {
		hostNames[ref] = name
	}
	seq := 0
	for i := 0; i < n; i++ {
		if i%50 == 0 && l.stopRequested() {
			return errStopped
		}
		var name string
		for {
			seq++
			name = fmt.Sprintf("filler-%05d", seq)
			if !used[name] {
				break
			}
		}
		host := l.hosts[i%len(l.hosts)]
		guest := string(types.VirtualMachineGuestOsIdentifierRhel7_64Guest)
		vm, dir, err := l.createVM(name, guest, "vmx-13", host)
		if err != nil {
			return fmt.Errorf("filler %s: %w", name, err)
		}
		screen := &[2]int32{1024, 768}
		dnsName, ip := guestNetwork(name, len(l.guests)+1)
		l.guests[vm.Self] = &guestModel{
			name: name, toolsInstalled: true, toolsGuestID: guest, screen: screen, dir: dir,
			logPath: filepath.Join(l.dsDir, dir, "vmware.log"), dnsName: dnsName, ip: ip,
		}
		vm.Config.ExtraConfig = fillerExtraConfig(dir, vm.Config.InstanceUuid)
		initCommon(vm, guest, types.VirtualMachinePowerStatePoweredOn, l.nextChangeVersion(), start)
		vm.Guest, vm.Summary.Guest = guestInfo(true, true, guest, screen)
		withNetwork(vm.Guest, vm.Summary.Guest, l.guests[vm.Self])
		if err := writeStartLog(l.guests[vm.Self].logPath, vm, hostNames[host], start); err != nil {
			return err
		}
	}
	return nil
}

// fillerExtraConfig is what vCenter lists under config.extraConfig for an ordinary running VM
// that nobody tuned: a few dozen entries the platform and VMware Tools keep there (PCI
// bridges, NUMA sizing, Tools versions, migration log names). None of them is one the wizard's
// rules read, but a read of every VM's extraConfig carries them all: a lab whose fillers had
// none would make a scan of 10,000 VMs look cheaper than on a real vCenter. (Real VMs often
// carry more: guestinfo.appInfo alone, where Tools publish it, is several kilobytes.)
func fillerExtraConfig(dir, uuid string) []types.BaseOptionValue {
	short := uuid
	if len(short) > 8 {
		short = short[:8]
	}
	entries := [][2]string{
		{"nvram", dir + ".nvram"},
		{"pciBridge0.present", "TRUE"},
		{"svga.present", "TRUE"},
		{"pciBridge4.present", "TRUE"},
		{"pciBridge4.virtualDev", "pcieRootPort"},
		{"pciBridge4.functions", "8"},
		{"pciBridge5.present", "TRUE"},
		{"pciBridge5.virtualDev", "pcieRootPort"},
		{"pciBridge5.functions", "8"},
		{"pciBridge6.present", "TRUE"},
		{"pciBridge6.virtualDev", "pcieRootPort"},
		{"pciBridge6.functions", "8"},
		{"pciBridge7.present", "TRUE"},
		{"pciBridge7.virtualDev", "pcieRootPort"},
		{"pciBridge7.functions", "8"},
		{"hpet0.present", "TRUE"},
		{"cpuid.coresPerSocket", "1"},
		{"numa.autosize.cookie", "20001"},
		{"numa.autosize.vcpu.maxPerVirtualNode", "2"},
		{"sched.cpu.latencySensitivity", "normal"},
		{"sched.swap.derivedName", fmt.Sprintf("/vmfs/volumes/%s/%s/%s-%s.vswp", datastoreName, dir, dir, short)},
		{"uuid.bios", uuid},
		{"vc.uuid", uuid},
		{"migrate.hostLogState", "none"},
		{"migrate.migrationId", "0"},
		{"migrate.hostLog", dir + "-" + short + ".hlog"},
		{"tools.remindInstall", "FALSE"},
		{"tools.guest.desktop.autolock", "FALSE"},
		{"toolsInstallManager.updateCounter", "2"},
		{"toolsInstallManager.lastInstallError", "0"},
		{"vmware.tools.internalversion", "11365"},
		{"vmware.tools.requiredversion", "11365"},
		{"svga.guestBackedPrimaryAware", "TRUE"},
		{"monitor.phys_bits_used", "45"},
		{"softPowerOff", "FALSE"},
		{"vmxstats.filename", dir + ".scoreboard"},
		{"guestinfo.vmtools.versionString", "11.3.5"},
		{"guestinfo.vmtools.versionNumber", "11365"},
		{"guestinfo.vmtools.description", "open-vm-tools 11.3.5 build 18557794"},
		{"guestinfo.vmware.components.available", "none"},
	}
	extra := make([]types.BaseOptionValue, len(entries))
	for i, kv := range entries {
		extra[i] = &types.OptionValue{Key: kv[0], Value: kv[1]}
	}
	return extra
}

// initCommon sets what every VM shows: names of its guest OS, its power state and a
// changeVersion (vCenter stamps every configuration with one).
func initCommon(vm *simulator.VirtualMachine, guestID string, power types.VirtualMachinePowerState, change string, start time.Time) {
	full := guestFullName(guestID)
	vm.Config.GuestFullName = full
	vm.Config.ChangeVersion = change
	vm.Summary.Config.GuestId = guestID
	vm.Summary.Config.GuestFullName = full
	vm.Runtime.PowerState = power
	vm.Summary.Runtime.PowerState = power
	if power == types.VirtualMachinePowerStatePoweredOn {
		boot := start.Add(-26 * time.Hour)
		vm.Runtime.BootTime = &boot
		vm.Summary.Runtime.BootTime = &boot
	}
}

// setVideo replaces the video card (key 500) with a configured copy. The simulator's
// default devices are pointers shared by every VM: changing one in place changes them all.
func setVideo(vm *simulator.VirtualMachine, displays int32, vramKB int64, autoDetect, enable3D bool) {
	devices := make([]types.BaseVirtualDevice, len(vm.Config.Hardware.Device))
	copy(devices, vm.Config.Hardware.Device)
	for i, d := range devices {
		if card, ok := d.(*types.VirtualMachineVideoCard); ok {
			c := *card
			info := *card.DeviceInfo.GetDescription()
			info.Summary = fmt.Sprintf("Video card with %d display(s) and %d KB of video memory", displays, vramKB)
			c.DeviceInfo = &info
			c.NumDisplays = displays
			c.VideoRamSizeInKB = vramKB
			c.UseAutoDetect = types.NewBool(autoDetect)
			c.Enable3DSupport = types.NewBool(enable3D)
			devices[i] = &c
		}
	}
	vm.Config.Hardware.Device = devices
}

// guestInfo builds the guest section: with Tools not running no guest id and no screen are
// reported, whatever the scenario says about the guest.
func guestInfo(running, installed bool, guestID string, screen *[2]int32) (*types.GuestInfo, *types.VirtualMachineGuestSummary) {
	g := &types.GuestInfo{
		ToolsStatus:                     types.VirtualMachineToolsStatusToolsNotInstalled,
		ToolsVersionStatus:              string(types.VirtualMachineToolsVersionStatusGuestToolsNotInstalled),
		ToolsVersionStatus2:             string(types.VirtualMachineToolsVersionStatusGuestToolsNotInstalled),
		ToolsRunningStatus:              string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning),
		ToolsVersion:                    "0",
		GuestState:                      string(types.VirtualMachineGuestStateNotRunning),
		InteractiveGuestOperationsReady: types.NewBool(false),
		GuestOperationsReady:            types.NewBool(false),
		GuestStateChangeSupported:       types.NewBool(false),
	}
	if installed || running {
		g.ToolsStatus = types.VirtualMachineToolsStatusToolsNotRunning
		g.ToolsVersionStatus = string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)
		g.ToolsVersionStatus2 = string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)
		g.ToolsVersion = "11365"
	}
	if running {
		g.ToolsStatus = types.VirtualMachineToolsStatusToolsOk
		g.ToolsRunningStatus = string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
		g.GuestState = string(types.VirtualMachineGuestStateRunning)
		g.InteractiveGuestOperationsReady = types.NewBool(true)
		g.GuestOperationsReady = types.NewBool(true)
		g.GuestStateChangeSupported = types.NewBool(true)
		g.GuestId = guestID
		if guestID != "" {
			g.GuestFullName = guestFullName(guestID)
			g.GuestFamily = guestFamily(guestID)
		}
		if screen != nil {
			g.Screen = &types.GuestScreenInfo{Width: screen[0], Height: screen[1]}
		}
	}
	s := &types.VirtualMachineGuestSummary{
		GuestId:             g.GuestId,
		GuestFullName:       g.GuestFullName,
		ToolsStatus:         g.ToolsStatus,
		ToolsVersionStatus:  g.ToolsVersionStatus,
		ToolsVersionStatus2: g.ToolsVersionStatus2,
		ToolsRunningStatus:  g.ToolsRunningStatus,
	}
	return g, s
}

func guestFamily(id string) string {
	switch {
	case strings.HasPrefix(id, "win"):
		return string(types.VirtualMachineGuestOsFamilyWindowsGuest)
	case strings.Contains(strings.ToLower(id), "linux"), strings.HasPrefix(id, "rhel"),
		strings.HasPrefix(id, "ubuntu"), strings.HasPrefix(id, "debian"), strings.HasPrefix(id, "centos"),
		strings.HasPrefix(id, "sles"), strings.HasPrefix(id, "oracle"):
		return string(types.VirtualMachineGuestOsFamilyLinuxGuest)
	}
	return string(types.VirtualMachineGuestOsFamilyOtherGuestFamily)
}

// guestFullName gives the names vSphere shows for the guest ids scenarios use most; any
// other id is shown as itself, which is what the simulator does for all of them.
func guestFullName(id string) string {
	names := map[string]string{
		"winXPProGuest":          "Microsoft Windows XP Professional (32-bit)",
		"winXPPro64Guest":        "Microsoft Windows XP Professional (64-bit)",
		"winNetStandardGuest":    "Microsoft Windows Server 2003 Standard (32-bit)",
		"winVistaGuest":          "Microsoft Windows Vista (32-bit)",
		"winVista64Guest":        "Microsoft Windows Vista (64-bit)",
		"winLonghornGuest":       "Microsoft Windows Server 2008 (32-bit)",
		"winLonghorn64Guest":     "Microsoft Windows Server 2008 (64-bit)",
		"windows7Guest":          "Microsoft Windows 7 (32-bit)",
		"windows7_64Guest":       "Microsoft Windows 7 (64-bit)",
		"windows7Server64Guest":  "Microsoft Windows Server 2008 R2 (64-bit)",
		"windows8Guest":          "Microsoft Windows 8 (32-bit)",
		"windows8_64Guest":       "Microsoft Windows 8 (64-bit)",
		"windows8Server64Guest":  "Microsoft Windows Server 2012 (64-bit)",
		"windows9Guest":          "Microsoft Windows 10 (32-bit)",
		"windows9_64Guest":       "Microsoft Windows 10 (64-bit)",
		"windows9Server64Guest":  "Microsoft Windows Server 2016 (64-bit)",
		"windows2019srv_64Guest": "Microsoft Windows Server 2019 (64-bit)",
		"windows11_64Guest":      "Microsoft Windows 11 (64-bit)",
		"rhel7_64Guest":          "Red Hat Enterprise Linux 7 (64-bit)",
		"ubuntu64Guest":          "Ubuntu Linux (64-bit)",
		"otherGuest":             "Other (32-bit)",
	}
	if n, ok := names[id]; ok {
		return n
	}
	return id
}
