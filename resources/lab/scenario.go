package main

// Scenario format 1 (DESIGN.md, "Scenario format 1"), read and validated here without any
// help from the Python side: the lab must refuse a bad file on its own, naming the field.
//
// encoding/json's struct decoding names neither the array index nor the path of a bad
// field, so the file is decoded into generic values and walked by hand.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Roles a scenario user may have (DESIGN.md, "Roles").
const (
	roleAdmin    = "admin"
	roleReadOnly = "read-only"
	roleNoPower  = "no-power"
)

// Scenario is a validated scenario file.
type Scenario struct {
	ID         string
	Datacenter string
	Login      Account
	Users      []Account
	FillerVMs  int
	Clusters   []Cluster
	VMs        []VMSpec
}

// Account is a user who can log in to the lab.
type Account struct {
	User     string
	Password string
	Role     string
}

// Cluster is a scenario cluster with its HA settings and hosts.
type Cluster struct {
	Name             string
	HAEnabled        bool
	AdmissionControl bool
	Hosts            []Host
}

// Host is a scenario ESXi host.
type Host struct {
	Name     string
	CPUModel string
	SSE41    bool
}

// VMSpec is a scenario VM, as the scenario writes it.
type VMSpec struct {
	Name            string
	Host            string
	HardwareVersion string
	GuestID         string
	ToolsGuestID    string // "" when null
	ToolsRunning    bool
	PowerState      string
	Screen          *[2]int32
	Displays        int32
	VRAMKB          int64
	AutoDetect      bool
	Enable3D        bool
	ExtraConfig     [][2]string // sorted by key, so a run is reproducible
	UpgradePolicy   string
	UpgradeVersion  string
	FailedVMotion   bool
}

// scenarioError names the field that is wrong; main prints it as one line and exits 2.
type scenarioError struct {
	path string
	msg  string
}

func (e *scenarioError) Error() string {
	if e.path == "" {
		return "scenario error: " + e.msg
	}
	return fmt.Sprintf("scenario error: %s: %s", e.path, e.msg)
}

func fail(path, format string, args ...interface{}) {
	panic(&scenarioError{path: path, msg: fmt.Sprintf(format, args...)})
}

var (
	hwVersionRe = regexp.MustCompile(`^vmx-([0-9]{2})$`)
	idRe        = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	verdicts    = []string{"confirmed", "affected", "mitigated", "at_risk", "possibly_affected", "not_affected"}
	remedies    = []string{"lower_resolution", "stay_on_hw7", "raise_buffer", "enable_3d"}
)

// maxFileBytes: a scenario is a small hand-written file (the wizard's limit too).
const maxFileBytes = 2 * 1024 * 1024

// LoadScenario reads and validates a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	data, err := readScenarioFile(path)
	if err != nil {
		return nil, err
	}
	return ParseScenario(data)
}

// readScenarioFile reads a regular file of at most maxFileBytes. A named pipe, a device or a
// folder is refused before it is opened (reading a pipe without a writer waits forever), and
// again on what was opened, in case the path was swapped in between.
func readScenarioFile(path string) ([]byte, error) {
	fileErr := func(format string, args ...interface{}) error {
		return &scenarioError{path: "(file)", msg: fmt.Sprintf("%s "+format, append([]interface{}{path}, args...)...)}
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fileErr("cannot be read: %s", reason(err))
	}
	if !info.Mode().IsRegular() {
		return nil, fileErr("is %s, not a regular file", fileKind(info.Mode()))
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openNoWait, 0)
	if err != nil {
		return nil, fileErr("cannot be read: %s", reason(err))
	}
	defer f.Close()
	if info, err = f.Stat(); err != nil || !info.Mode().IsRegular() {
		if err != nil {
			return nil, fileErr("cannot be read: %s", reason(err))
		}
		return nil, fileErr("is %s, not a regular file", fileKind(info.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fileErr("cannot be read: %s", reason(err))
	}
	if len(data) > maxFileBytes {
		return nil, fileErr("is larger than %d MB", maxFileBytes/(1024*1024))
	}
	return data, nil
}

func reason(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// ParseScenario validates scenario JSON; the error names the first bad field.
func ParseScenario(data []byte) (sc *Scenario, err error) {
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*scenarioError)
			if !ok {
				panic(r)
			}
			sc, err = nil, se
		}
	}()

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root interface{}
	if derr := dec.Decode(&root); derr != nil {
		fail("", "not valid JSON: %v", derr)
	}
	if dec.More() {
		fail("", "not valid JSON: more than one value in the file")
	}
	return parseTop(root), nil
}

// object checks that v is a JSON object with exactly the required keys and any of the
// optional ones: readers ignore no field silently (DESIGN.md).
func jsonObject(path string, v interface{}, required, optional []string) map[string]interface{} {
	m, ok := v.(map[string]interface{})
	if !ok {
		fail(path, "expected an object, got %s", kind(v))
	}
	allowed := map[string]bool{}
	for _, k := range append(append([]string{}, required...), optional...) {
		allowed[k] = true
	}
	var unknown []string
	for k := range m {
		if !allowed[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		fail(join(path, unknown[0]), "unknown field")
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			fail(join(path, k), "missing")
		}
	}
	return m
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kind(v interface{}) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []interface{}:
		return "a list"
	case map[string]interface{}:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func str(path string, v interface{}) string {
	s, ok := v.(string)
	if !ok {
		fail(path, "expected a string, got %s", kind(v))
	}
	return s
}

func nonEmpty(path string, v interface{}) string {
	s := str(path, v)
	if strings.TrimSpace(s) == "" {
		fail(path, "must not be empty")
	}
	return s
}

func boolean(path string, v interface{}) bool {
	b, ok := v.(bool)
	if !ok {
		fail(path, "expected true or false, got %s", kind(v))
	}
	return b
}

func integer(path string, v interface{}, min, max int64) int64 {
	n, ok := v.(json.Number)
	if !ok {
		fail(path, "expected a whole number, got %s", kind(v))
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		fail(path, "expected a whole number, got %s", n.String())
	}
	if i < min || i > max {
		fail(path, "expected a whole number from %d to %d, got %d", min, max, i)
	}
	return i
}

func list(path string, v interface{}) []interface{} {
	l, ok := v.([]interface{})
	if !ok {
		fail(path, "expected a list, got %s", kind(v))
	}
	return l
}

func oneOf(path string, v interface{}, allowed []string) string {
	s, ok := v.(string)
	for _, a := range allowed {
		if ok && s == a {
			return s
		}
	}
	fail(path, "expected one of %s", strings.Join(allowed, ", "))
	return ""
}

func hwVersion(path string, v interface{}) string {
	s, ok := v.(string)
	if !ok || !hwVersionRe.MatchString(s) {
		fail(path, `expected a string like "vmx-08"`)
	}
	return s
}

func guestID(path string, v interface{}) string {
	if _, ok := v.(string); !ok {
		fail(path, `expected a vSphere guest OS id like "windows7_64Guest", got %s`, kind(v))
	}
	return nonEmpty(path, v)
}

func parseTop(root interface{}) *Scenario {
	m := jsonObject("", root,
		[]string{"format", "id", "title", "briefing", "login", "users", "filler_vms", "clusters", "vms", "expect"},
		[]string{"datacenter", "ticket", "difficulty", "teaches", "vm_of_interest"})

	if n, ok := m["format"].(json.Number); !ok || n.String() != "1" {
		fail("format", "expected 1 (the only format this lab reads)")
	}
	sc := &Scenario{Datacenter: "Datacenter"}
	sc.ID = nonEmpty("id", m["id"])
	if len(sc.ID) > 64 || !idRe.MatchString(sc.ID) {
		fail("id", `expected lowercase words joined by hyphens, at most 64 characters, like "dual-screen-win7"`)
	}
	nonEmpty("title", m["title"])
	nonEmpty("briefing", m["briefing"])
	if v, ok := m["datacenter"]; ok {
		sc.Datacenter = nonEmpty("datacenter", v)
		checkEntityName("datacenter", sc.Datacenter)
	}
	if v, ok := m["ticket"]; ok {
		nonEmpty("ticket", v)
	}
	if v, ok := m["difficulty"]; ok {
		oneOf("difficulty", v, []string{"beginner", "intermediate", "advanced"})
	}
	if v, ok := m["teaches"]; ok {
		for i, t := range list("teaches", v) {
			nonEmpty(fmt.Sprintf("teaches[%d]", i), t)
		}
	}

	login := jsonObject("login", m["login"], []string{"user", "password"}, nil)
	sc.Login = Account{
		User:     nonEmpty("login.user", login["user"]),
		Password: nonEmpty("login.password", login["password"]),
		Role:     roleAdmin,
	}
	seenUser := map[string]bool{}
	for i, u := range list("users", m["users"]) {
		p := fmt.Sprintf("users[%d]", i)
		um := jsonObject(p, u, []string{"user", "password", "role"}, nil)
		a := Account{
			User:     nonEmpty(p+".user", um["user"]),
			Password: nonEmpty(p+".password", um["password"]),
			Role:     oneOf(p+".role", um["role"], []string{roleAdmin, roleReadOnly, roleNoPower}),
		}
		if seenUser[a.User] {
			fail(p+".user", "%q is listed twice", a.User)
		}
		seenUser[a.User] = true
		if a.User == sc.Login.User {
			// The login user is admin unless listed here with another role (DESIGN.md).
			if a.Password != sc.Login.Password {
				fail(p+".password", "differs from login.password for the same user")
			}
			sc.Login.Role = a.Role
			continue
		}
		sc.Users = append(sc.Users, a)
	}
	sc.FillerVMs = int(integer("filler_vms", m["filler_vms"], 0, 20000))

	hosts := map[string]bool{}
	clusterNames := map[string]bool{}
	clusters := list("clusters", m["clusters"])
	if len(clusters) == 0 {
		fail("clusters", "needs at least one cluster")
	}
	for i, c := range clusters {
		p := fmt.Sprintf("clusters[%d]", i)
		cm := jsonObject(p, c, []string{"name", "ha", "hosts"}, nil)
		cl := Cluster{Name: nonEmpty(p+".name", cm["name"])}
		checkEntityName(p+".name", cl.Name)
		if clusterNames[cl.Name] {
			fail(p+".name", "%q is used twice", cl.Name)
		}
		clusterNames[cl.Name] = true
		ha := jsonObject(p+".ha", cm["ha"], []string{"enabled", "admission_control"}, nil)
		cl.HAEnabled = boolean(p+".ha.enabled", ha["enabled"])
		cl.AdmissionControl = boolean(p+".ha.admission_control", ha["admission_control"])
		hl := list(p+".hosts", cm["hosts"])
		if len(hl) == 0 {
			fail(p+".hosts", "needs at least one host")
		}
		for j, h := range hl {
			hp := fmt.Sprintf("%s.hosts[%d]", p, j)
			hm := jsonObject(hp, h, []string{"name", "cpu_model", "sse41"}, nil)
			host := Host{
				Name:     nonEmpty(hp+".name", hm["name"]),
				CPUModel: nonEmpty(hp+".cpu_model", hm["cpu_model"]),
				SSE41:    boolean(hp+".sse41", hm["sse41"]),
			}
			checkEntityName(hp+".name", host.Name)
			if hosts[host.Name] {
				fail(hp+".name", "%q is used twice", host.Name)
			}
			hosts[host.Name] = true
			cl.Hosts = append(cl.Hosts, host)
		}
		sc.Clusters = append(sc.Clusters, cl)
	}

	vmNames := map[string]bool{}
	vms := list("vms", m["vms"])
	if len(vms) == 0 {
		fail("vms", "needs at least one VM")
	}
	for i, v := range vms {
		vm := parseVM(fmt.Sprintf("vms[%d]", i), v, hosts)
		if vmNames[vm.Name] {
			fail(fmt.Sprintf("vms[%d].name", i), "%q is used twice (one folder cannot hold two VMs of one name)", vm.Name)
		}
		vmNames[vm.Name] = true
		sc.VMs = append(sc.VMs, vm)
	}

	expect, ok := m["expect"].(map[string]interface{})
	if !ok {
		fail("expect", "expected an object, got %s", kind(m["expect"]))
	}
	keys := make([]string, 0, len(expect))
	for k := range expect {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range keys {
		p := "expect." + name
		if !vmNames[name] {
			fail(p, "no VM of that name in vms")
		}
		em := jsonObject(p, expect[name], []string{"verdict", "recommended"}, nil)
		verdict := oneOf(p+".verdict", em["verdict"], verdicts)
		if em["recommended"] != nil {
			oneOf(p+".recommended", em["recommended"], remedies)
			if verdict == "mitigated" || verdict == "not_affected" {
				fail(p+".recommended", "must be null for a VM that is %q", verdict)
			}
		}
	}
	if v, ok := m["vm_of_interest"]; ok {
		name := nonEmpty("vm_of_interest", v)
		if !vmNames[name] {
			fail("vm_of_interest", "no VM named %q in vms", name)
		}
		if _, ok := expect[name]; !ok {
			fail("expect", "has no entry for the vm_of_interest %q", name)
		}
	}
	return sc
}

func parseVM(p string, v interface{}, hosts map[string]bool) VMSpec {
	m := jsonObject(p, v, []string{
		"name", "host", "hardware_version", "guest_id", "tools_guest_id", "tools_running",
		"power_state", "screen", "video", "extra_config", "upgrade_policy", "history",
	}, nil)
	vm := VMSpec{
		Name:            nonEmpty(p+".name", m["name"]),
		Host:            nonEmpty(p+".host", m["host"]),
		HardwareVersion: hwVersion(p+".hardware_version", m["hardware_version"]),
		GuestID:         guestID(p+".guest_id", m["guest_id"]),
		ToolsRunning:    boolean(p+".tools_running", m["tools_running"]),
		PowerState:      oneOf(p+".power_state", m["power_state"], []string{"poweredOn", "poweredOff", "suspended"}),
	}
	// vSphere limits entity names to 80 characters.
	if n := len([]rune(vm.Name)); n > 80 {
		fail(p+".name", "longer than 80 characters (%d)", n)
	}
	if !hosts[vm.Host] {
		fail(p+".host", "no host %q in clusters", vm.Host)
	}
	if m["tools_guest_id"] != nil {
		vm.ToolsGuestID = guestID(p+".tools_guest_id", m["tools_guest_id"])
	}
	if vm.ToolsRunning && vm.PowerState != "poweredOn" {
		fail(p+".tools_running", "is true for a VM that is %s (Tools run only in a powered-on VM)", vm.PowerState)
	}
	if m["screen"] != nil && !vm.ToolsRunning {
		fail(p+".screen", "is set while tools_running is false (Tools report the screen only while they run)")
	}
	if m["screen"] != nil {
		sl := list(p+".screen", m["screen"])
		if len(sl) != 2 {
			fail(p+".screen", "expected [width, height] or null")
		}
		vm.Screen = &[2]int32{
			int32(integer(p+".screen[0]", sl[0], 1, 16384)),
			int32(integer(p+".screen[1]", sl[1], 1, 16384)),
		}
	}
	video := jsonObject(p+".video", m["video"], []string{"displays", "vram_kb", "auto_detect", "enable_3d"}, nil)
	vm.Displays = int32(integer(p+".video.displays", video["displays"], 1, 10))
	vm.VRAMKB = integer(p+".video.vram_kb", video["vram_kb"], 1, 4*1024*1024)
	vm.AutoDetect = boolean(p+".video.auto_detect", video["auto_detect"])
	vm.Enable3D = boolean(p+".video.enable_3d", video["enable_3d"])

	ec, ok := m["extra_config"].(map[string]interface{})
	if !ok {
		fail(p+".extra_config", "expected an object of strings, got %s", kind(m["extra_config"]))
	}
	for k, val := range ec {
		if strings.TrimSpace(k) == "" {
			fail(p+".extra_config", "a key is empty")
		}
		vm.ExtraConfig = append(vm.ExtraConfig, [2]string{k, str(p+".extra_config."+k, val)})
	}
	sort.Slice(vm.ExtraConfig, func(i, j int) bool { return vm.ExtraConfig[i][0] < vm.ExtraConfig[j][0] })

	up := jsonObject(p+".upgrade_policy", m["upgrade_policy"], []string{"policy", "version"}, nil)
	vm.UpgradePolicy = oneOf(p+".upgrade_policy.policy", up["policy"], []string{"never", "onSoftPowerOff", "always"})
	if up["version"] != nil {
		vm.UpgradeVersion = hwVersion(p+".upgrade_policy.version", up["version"])
	}

	hist := jsonObject(p+".history", m["history"], []string{"failed_vmotion"}, nil)
	vm.FailedVMotion = boolean(p+".history.failed_vmotion", hist["failed_vmotion"])
	return vm
}

// checkEntityName refuses names that vSphere itself refuses for inventory objects.
func checkEntityName(path, name string) {
	if n := len([]rune(name)); n > 80 {
		fail(path, "longer than 80 characters (%d)", n)
	}
}
