package main

// Scenario format 1, read and validated here without any help from the Python side: the lab must
// refuse a bad file on its own, naming the field. The wizard's reader (wizard/lab/scenario.py)
// applies the same rules in the same order, so both accept a file or both refuse it naming the
// same field (tests/helpers/scenario_corpus.py holds the files both are tested on):
//
//   - the file: a regular file (a named pipe or a device is refused before it is opened) of at
//     most 2 MB, UTF-8 with at most one byte-order mark, JSON nested at most 64 levels deep,
//     without a \u escape that is half of a UTF-16 pair, without a key given twice in an object;
//   - the fields in one fixed order (parseTop, parseVM), the bounds in the constants below;
//   - text is empty when it holds only white space as Python's str.strip() sees it, and holds
//     no character XML cannot carry (the simulator would send U+FFFD instead);
//   - paths name keys as .key when the key is an identifier, else as ["key"] (JSON-quoted as
//     Python's json.dumps writes it, cut at 40 characters); names (extra_config settings,
//     expect's VMs) always as ["key"];
//   - control, bidirectional and invisible characters in a message are written as \uXXXX.
//
// encoding/json's struct decoding names neither the array index nor the path of a bad field,
// keeps the last of two equal keys silently and forgets their order, so the file is decoded
// token by token into ordered objects and walked by hand.

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
	"unicode"
	"unicode/utf8"
)

// The bounds, the same in the wizard's reader.
const (
	maxFileBytes  = 2 * 1024 * 1024
	maxNesting    = 64
	maxFillerVMs  = 20000
	maxDisplays   = 10
	maxScreenSide = 16384
	maxVRAMKB     = 4 * 1024 * 1024
	maxNameLength = 80
	maxIDLength   = 64
	maxShown      = 40
)

// Roles a scenario user may have.
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
	// CertificateRenewed: the exercise renews the lab's certificate. Training mode asks for
	// the renewal (commands.go); the lab only reads the field.
	CertificateRenewed bool
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
	path := e.path
	if path == "" {
		path = "(top level)"
	}
	return escapeControls(fmt.Sprintf("scenario error: %s: %s", path, e.msg))
}

const filePath = "(file)"

func fail(path, format string, args ...interface{}) {
	panic(&scenarioError{path: path, msg: fmt.Sprintf(format, args...)})
}

// once fails at path when name is already in seen ("<name> is listed twice", or "used"), else
// adds it.
func once(seen map[string]bool, path, name, how string) {
	if seen[name] {
		fail(path, "%s is %s twice", pyQuote(name), how)
	}
	seen[name] = true
}

var (
	hwVersionRe  = regexp.MustCompile(`^vmx-[0-9]{2}$`)
	idRe         = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	identifierRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	verdicts     = []string{"confirmed", "affected", "mitigated", "at_risk", "possibly_affected", "not_affected"}
	remedies     = []string{"lower_resolution", "stay_on_hw7", "raise_buffer", "enable_3d"}
)

// --- the file -------------------------------------------------------------------------------

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
		return &scenarioError{path: filePath, msg: fmt.Sprintf("%s "+format, append([]interface{}{path}, args...)...)}
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
	return parseTop(decodeJSON(data)), nil
}

// --- JSON with ordered objects ----------------------------------------------------------------

// jsonObject is a decoded JSON object: its keys in the order they first appear, the last value
// of each, and the keys that appeared again, in the order they did.
type jsonObject struct {
	keys []string
	vals map[string]interface{}
	dups []string
}

func (o *jsonObject) has(k string) bool {
	_, ok := o.vals[k]
	return ok
}

func decodeJSON(data []byte) interface{} {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		bad := 0
		for bad < len(data) {
			r, size := utf8.DecodeRune(data[bad:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			bad += size
		}
		fail(filePath, "is not UTF-8 text (byte %d)", bad)
	}
	checkStructure(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root, err := decodeValue(dec)
	if err != nil {
		fail(filePath, "invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			fail(filePath, "invalid JSON: more than one value in the file")
		}
		fail(filePath, "invalid JSON: %v", err)
	}
	return root
}

func decodeValue(dec *json.Decoder) (interface{}, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &jsonObject{vals: map[string]interface{}{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := kt.(string)
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			if o.has(key) {
				o.dups = append(o.dups, key)
			} else {
				o.keys = append(o.keys, key)
			}
			o.vals[key] = v
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return o, nil
	case json.Delim('['):
		l := []interface{}{}
		for dec.More() {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return l, nil
	}
	return tok, nil
}

// checkStructure refuses nesting deeper than maxNesting and \u escapes that name no character:
// encoding/json would turn a lone surrogate into U+FFFD silently, Python's decoder would keep
// it, so both readers refuse the file instead.
func checkStructure(data []byte) {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '[', '{':
			depth++
			if depth > maxNesting {
				fail(filePath, "nested deeper than %d levels (at %s)", maxNesting, where(data, i))
			}
		case ']', '}':
			depth--
		case '"':
			i = checkString(data, i)
		}
	}
}

// checkString checks the string starting at data[start] and returns the index of its closing
// quote (or the end of the data when it has none: the decoder then reports the error).
func checkString(data []byte, start int) int {
	highAt, highEnd := -1, -1 // a high surrogate escape awaiting its pair
	i := start + 1
	for i < len(data) && data[i] != '"' {
		if data[i] != '\\' {
			i++
			continue
		}
		if i+1 < len(data) && data[i+1] == 'u' && i+6 <= len(data) {
			code, err := strconv.ParseUint(string(data[i+2:i+6]), 16, 32)
			if err == nil {
				if highAt >= 0 {
					if code >= 0xDC00 && code <= 0xDFFF && i == highEnd {
						highAt = -1
						i += 6
						continue
					}
					loneSurrogate(data, highAt)
				}
				if code >= 0xD800 && code <= 0xDBFF {
					highAt, highEnd = i, i+6
				} else if code >= 0xDC00 && code <= 0xDFFF {
					loneSurrogate(data, i)
				}
				i += 6
				continue
			}
		}
		if highAt >= 0 {
			loneSurrogate(data, highAt)
		}
		i += 2
	}
	if highAt >= 0 {
		loneSurrogate(data, highAt)
	}
	return i
}

func loneSurrogate(data []byte, at int) {
	fail(filePath, "invalid JSON at %s: the escape %s is half of a UTF-16 surrogate pair, not a character",
		where(data, at), data[at:at+6])
}

func where(data []byte, at int) string {
	line := bytes.Count(data[:at], []byte("\n")) + 1
	column := utf8.RuneCount(data[bytes.LastIndexByte(data[:at], '\n')+1:at]) + 1
	return fmt.Sprintf("line %d, column %d", line, column)
}

// --- messages ---------------------------------------------------------------------------------

// unsafeRanges are the characters no message carries raw: C0, DEL, C1, bidirectional and
// invisible format characters, surrogates, tags. The wizard's reader escapes the same ones.
var unsafeRanges = [][2]rune{
	{0x00, 0x1F}, {0x7F, 0x9F}, {0xAD, 0xAD}, {0x061C, 0x061C}, {0x180E, 0x180E},
	{0x200B, 0x200F}, {0x2028, 0x202E}, {0x2060, 0x206F}, {0xD800, 0xDFFF}, {0xFEFF, 0xFEFF},
	{0xFFF9, 0xFFFB}, {0xE0000, 0xE007F},
}

func unsafeRune(r rune) bool {
	for _, rg := range unsafeRanges {
		if r >= rg[0] && r <= rg[1] {
			return true
		}
	}
	return false
}

// escapeControls writes every unsafe character of s as \uXXXX (\UXXXXXXXX above U+FFFF), so a
// message never moves the cursor, recolours a terminal or reverses what it shows. Bytes that
// are not UTF-8 are written as \xXX.
func escapeControls(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case unsafeRune(r) && r <= 0xFFFF:
			fmt.Fprintf(&b, "\\u%04x", r)
		case unsafeRune(r):
			fmt.Fprintf(&b, "\\U%08x", r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// pyQuote writes s as Python's json.dumps(s, ensure_ascii=False) does, so field paths read the
// same in both readers' messages.
func pyQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, "\\u%04x", r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func quoteKey(key string) string {
	if r := []rune(key); len(r) > maxShown {
		key = string(r[:maxShown-3]) + "..."
	}
	return pyQuote(key)
}

// field is the path of an object's field: .key for an identifier, else ["key"].
func field(path, key string) string {
	if identifierRe.MatchString(key) {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	return path + "[" + quoteKey(key) + "]"
}

// entry is the path of an entry of an object keyed by names: always ["key"].
func entry(path, key string) string {
	return path + "[" + quoteKey(key) + "]"
}

func item(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// --- typed reads ------------------------------------------------------------------------------

// fields checks that v is an object with no repeated key, no unknown field and every required
// one, in that order (each in document order).
func fields(path string, v interface{}, required, optional []string) *jsonObject {
	o, ok := v.(*jsonObject)
	if !ok {
		fail(path, "expected an object, got %s", kind(v))
	}
	if len(o.dups) > 0 {
		fail(field(path, o.dups[0]), "appears twice in the same object")
	}
	allowed := map[string]bool{}
	for _, k := range append(append([]string{}, required...), optional...) {
		allowed[k] = true
	}
	for _, k := range o.keys {
		if !allowed[k] {
			fail(field(path, k), "unknown field")
		}
	}
	for _, k := range required {
		if !o.has(k) {
			fail(field(path, k), "missing")
		}
	}
	return o
}

// entries checks an object keyed by names (no key twice).
func entries(path string, v interface{}) *jsonObject {
	o, ok := v.(*jsonObject)
	if !ok {
		fail(path, "expected an object, got %s", kind(v))
	}
	if len(o.dups) > 0 {
		fail(entry(path, o.dups[0]), "appears twice in the same object")
	}
	return o
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
	case *jsonObject:
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

// blank is Python's str.isspace() for one character: Unicode white space, and the four
// information separators U+001C to U+001F, which Python counts as white space and Go does not.
func blank(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1C && r <= 0x1F)
}

func isBlank(s string) bool {
	return strings.TrimFunc(s, blank) == ""
}

// carried refuses characters that XML 1.0 cannot hold: control characters other than tab, line
// feed and carriage return, and U+FFFE, U+FFFF.
func carried(path, s string) {
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF {
			fail(path, "holds the character U+%04X, which vCenter cannot carry", r)
		}
	}
}

// text is a string that may be empty (an extra_config value).
func text(path string, v interface{}) string {
	s := str(path, v)
	carried(path, s)
	return s
}

func nonEmpty(path string, v interface{}) string {
	s := text(path, v)
	if isBlank(s) {
		fail(path, "must not be empty")
	}
	return s
}

// entityName is an inventory name: vSphere allows 80 characters.
func entityName(path string, v interface{}) string {
	s := nonEmpty(path, v)
	if n := utf8.RuneCountInString(s); n > maxNameLength {
		fail(path, "longer than %d characters (%d)", maxNameLength, n)
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
	if err != nil || i < min || i > max {
		shown := n.String()
		if len(shown) > maxShown {
			shown = shown[:maxShown-3] + "..."
		}
		fail(path, "expected a whole number from %d to %d, got %s", min, max, shown)
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

func items(path string, v interface{}, minItems int) []interface{} {
	l := list(path, v)
	if len(l) < minItems {
		fail(path, "needs at least %d, got none", minItems)
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

// --- the scenario, in the wizard's order ------------------------------------------------------

func parseTop(root interface{}) *Scenario {
	if o, ok := root.(*jsonObject); ok && o.has("format") {
		if n, ok := o.vals["format"].(json.Number); !ok || n.String() != "1" {
			fail("format", "expected 1 (the only format this lab reads)")
		}
	}
	m := fields("", root,
		[]string{"format", "id", "title", "briefing", "login", "users", "filler_vms", "clusters", "vms", "expect"},
		[]string{"ticket", "difficulty", "teaches", "datacenter", "vm_of_interest", "certificate", "$schema"})
	get := func(k string) interface{} { return m.vals[k] }

	sc := &Scenario{Datacenter: "Datacenter"}
	sc.ID = nonEmpty("id", get("id"))
	if len(sc.ID) > maxIDLength || !idRe.MatchString(sc.ID) {
		fail("id", `expected lowercase words joined by hyphens, at most %d characters, like "dual-screen-win7"`, maxIDLength)
	}
	nonEmpty("title", get("title"))
	nonEmpty("briefing", get("briefing"))

	login := fields("login", get("login"), []string{"user", "password"}, nil)
	sc.Login = Account{
		User:     nonEmpty("login.user", login.vals["user"]),
		Password: nonEmpty("login.password", login.vals["password"]),
		Role:     roleAdmin,
	}
	seenUser := map[string]bool{}
	for i, u := range items("users", get("users"), 0) {
		p := item("users", i)
		um := fields(p, u, []string{"user", "password", "role"}, nil)
		a := Account{User: nonEmpty(p+".user", um.vals["user"])}
		once(seenUser, p+".user", a.User, "listed")
		a.Password = nonEmpty(p+".password", um.vals["password"])
		if a.User == sc.Login.User && a.Password != sc.Login.Password {
			fail(p+".password", "differs from login.password for the same user")
		}
		a.Role = oneOf(p+".role", um.vals["role"], []string{roleAdmin, roleReadOnly, roleNoPower})
		if a.User == sc.Login.User {
			// The login user is admin unless listed here with another role.
			sc.Login.Role = a.Role
			continue
		}
		sc.Users = append(sc.Users, a)
	}
	sc.FillerVMs = int(integer("filler_vms", get("filler_vms"), 0, maxFillerVMs))

	hosts := map[string]bool{}
	clusterNames := map[string]bool{}
	for i, c := range items("clusters", get("clusters"), 1) {
		p := item("clusters", i)
		cm := fields(p, c, []string{"name", "ha", "hosts"}, nil)
		cl := Cluster{Name: entityName(p+".name", cm.vals["name"])}
		once(clusterNames, p+".name", cl.Name, "used")
		ha := fields(p+".ha", cm.vals["ha"], []string{"enabled", "admission_control"}, nil)
		cl.HAEnabled = boolean(p+".ha.enabled", ha.vals["enabled"])
		cl.AdmissionControl = boolean(p+".ha.admission_control", ha.vals["admission_control"])
		for j, h := range items(p+".hosts", cm.vals["hosts"], 1) {
			hp := item(p+".hosts", j)
			hm := fields(hp, h, []string{"name", "cpu_model", "sse41"}, nil)
			host := Host{Name: entityName(hp+".name", hm.vals["name"])}
			once(hosts, hp+".name", host.Name, "used")
			host.CPUModel = nonEmpty(hp+".cpu_model", hm.vals["cpu_model"])
			host.SSE41 = boolean(hp+".sse41", hm.vals["sse41"])
			cl.Hosts = append(cl.Hosts, host)
		}
		sc.Clusters = append(sc.Clusters, cl)
	}

	vmNames := map[string]bool{}
	for i, v := range items("vms", get("vms"), 1) {
		vm := parseVM(item("vms", i), v, hosts)
		if vmNames[vm.Name] {
			fail(item("vms", i)+".name", "%s is used twice (one folder cannot hold two VMs of one name)", pyQuote(vm.Name))
		}
		vmNames[vm.Name] = true
		sc.VMs = append(sc.VMs, vm)
	}

	expect := entries("expect", get("expect"))
	for _, name := range expect.keys {
		p := entry("expect", name)
		if !vmNames[name] {
			fail(p, "no VM of that name in vms")
		}
		em := fields(p, expect.vals[name], []string{"verdict", "recommended"}, nil)
		verdict := oneOf(p+".verdict", em.vals["verdict"], verdicts)
		if em.vals["recommended"] != nil {
			oneOf(p+".recommended", em.vals["recommended"], remedies)
			if verdict == "mitigated" || verdict == "not_affected" {
				fail(p+".recommended", "must be null for a VM that is %q", verdict)
			}
		}
	}

	if m.has("ticket") {
		nonEmpty("ticket", get("ticket"))
	}
	if m.has("difficulty") {
		oneOf("difficulty", get("difficulty"), []string{"beginner", "intermediate", "advanced"})
	}
	if m.has("teaches") {
		for i, t := range items("teaches", get("teaches"), 0) {
			nonEmpty(item("teaches", i), t)
		}
	}
	if m.has("datacenter") {
		sc.Datacenter = entityName("datacenter", get("datacenter"))
	}
	if m.has("vm_of_interest") {
		name := nonEmpty("vm_of_interest", get("vm_of_interest"))
		if !vmNames[name] {
			fail("vm_of_interest", "no VM named %s in vms", pyQuote(name))
		}
		if !expect.has(name) {
			fail("expect", "has no entry for the vm_of_interest %s", pyQuote(name))
		}
	}
	if m.has("certificate") {
		cert := fields("certificate", get("certificate"), []string{"renewed"}, nil)
		sc.CertificateRenewed = boolean("certificate.renewed", cert.vals["renewed"])
	}
	if m.has("$schema") {
		nonEmpty(field("", "$schema"), get("$schema")) // where editors find the schema; nothing else
	}
	return sc
}

func parseVM(p string, v interface{}, hosts map[string]bool) VMSpec {
	m := fields(p, v, []string{
		"name", "host", "hardware_version", "guest_id", "tools_guest_id", "tools_running",
		"power_state", "screen", "video", "extra_config", "upgrade_policy", "history",
	}, nil)
	get := func(k string) interface{} { return m.vals[k] }
	vm := VMSpec{Name: entityName(p+".name", get("name"))}
	vm.Host = nonEmpty(p+".host", get("host"))
	if !hosts[vm.Host] {
		fail(p+".host", "no host %s in clusters", pyQuote(vm.Host))
	}
	vm.HardwareVersion = hwVersion(p+".hardware_version", get("hardware_version"))
	vm.GuestID = nonEmpty(p+".guest_id", get("guest_id"))
	if get("tools_guest_id") != nil {
		vm.ToolsGuestID = nonEmpty(p+".tools_guest_id", get("tools_guest_id"))
	}
	vm.PowerState = oneOf(p+".power_state", get("power_state"), []string{"poweredOn", "poweredOff", "suspended"})
	vm.ToolsRunning = boolean(p+".tools_running", get("tools_running"))
	if vm.ToolsRunning && vm.PowerState != "poweredOn" {
		fail(p+".tools_running", "is true for a VM that is %s (Tools run only in a powered-on VM)", vm.PowerState)
	}
	if get("screen") != nil {
		sl := list(p+".screen", get("screen"))
		if len(sl) != 2 {
			fail(p+".screen", "expected [width, height] or null")
		}
		vm.Screen = &[2]int32{
			int32(integer(p+".screen[0]", sl[0], 1, maxScreenSide)),
			int32(integer(p+".screen[1]", sl[1], 1, maxScreenSide)),
		}
		if !vm.ToolsRunning {
			fail(p+".screen", "is set while tools_running is false (Tools report the screen only while they run)")
		}
	}
	video := fields(p+".video", get("video"), []string{"displays", "vram_kb", "auto_detect", "enable_3d"}, nil)
	vm.Displays = int32(integer(p+".video.displays", video.vals["displays"], 1, maxDisplays))
	vm.VRAMKB = integer(p+".video.vram_kb", video.vals["vram_kb"], 1, maxVRAMKB)
	vm.AutoDetect = boolean(p+".video.auto_detect", video.vals["auto_detect"])
	vm.Enable3D = boolean(p+".video.enable_3d", video.vals["enable_3d"])

	ec := entries(p+".extra_config", get("extra_config"))
	for _, k := range ec.keys {
		carried(entry(p+".extra_config", k), k)
		if isBlank(k) {
			fail(entry(p+".extra_config", k), "the key is empty")
		}
	}
	for _, k := range ec.keys {
		vm.ExtraConfig = append(vm.ExtraConfig, [2]string{k, text(entry(p+".extra_config", k), ec.vals[k])})
	}
	// Sorted by key, so a run is reproducible whatever the file's order.
	sort.Slice(vm.ExtraConfig, func(i, j int) bool { return vm.ExtraConfig[i][0] < vm.ExtraConfig[j][0] })

	if get("upgrade_policy") == nil {
		// No upgrade scheduled: what vCenter reports for a VM nobody scheduled one for.
		vm.UpgradePolicy = "never"
	} else {
		up := fields(p+".upgrade_policy", get("upgrade_policy"), []string{"policy", "version"}, nil)
		vm.UpgradePolicy = oneOf(p+".upgrade_policy.policy", up.vals["policy"], []string{"never", "onSoftPowerOff", "always"})
		if up.vals["version"] != nil {
			vm.UpgradeVersion = hwVersion(p+".upgrade_policy.version", up.vals["version"])
		}
	}

	hist := fields(p+".history", get("history"), []string{"failed_vmotion"}, nil)
	vm.FailedVMotion = boolean(p+".history.failed_vmotion", hist.vals["failed_vmotion"])
	return vm
}
