package main

// The SOAP middleware in front of the simulator: it reads each call, enforces logins and roles,
// answers the calls whose simulator behaviour is wrong or missing, and passes everything else
// on.

import (
	"bytes"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// callContext is who is calling.
type callContext struct {
	user string
	role string
	key  string
}

// sim is a simulator context for a call on obj: Caller tells the simulator that obj is
// already locked, as its own dispatcher does.
func (c *callContext) sim(obj types.ManagedObjectReference) *simulator.Context {
	ctx := sessionContext(c.user, c.key)
	ctx.Caller = &obj
	return ctx
}

type handlerFunc func(*Lab, *callContext, *simulator.Method) soap.HasFault

var handlers = map[string]handlerFunc{
	"ReconfigVM_Task":     (*Lab).reconfigVM,
	"UpgradeVM_Task":      (*Lab).upgradeVM,
	"RelocateVM_Task":     (*Lab).relocateVM,
	"MigrateVM_Task":      (*Lab).migrateVM,
	"PowerOnVM_Task":      (*Lab).powerOnVM,
	"PowerOffVM_Task":     (*Lab).powerOffVM,
	"ShutdownGuest":       (*Lab).shutdownGuest,
	"RebootGuest":         (*Lab).rebootGuest,
	"StartProgramInGuest": (*Lab).startProgramInGuest,
	"ListProcessesInGuest": func(l *Lab, c *callContext, m *simulator.Method) soap.HasFault {
		return l.listProcessesInGuest(c, m.Body.(*types.ListProcessesInGuest))
	},
	"HasPrivilegeOnEntity": func(l *Lab, c *callContext, m *simulator.Method) soap.HasFault {
		return l.hasPrivilegeOnEntity(c, m.Body.(*types.HasPrivilegeOnEntity))
	},
	"HasPrivilegeOnEntities": func(l *Lab, c *callContext, m *simulator.Method) soap.HasFault {
		return l.hasPrivilegeOnEntities(c, m.Body.(*types.HasPrivilegeOnEntities))
	},
	"RetrievePropertiesEx": func(l *Lab, c *callContext, m *simulator.Method) soap.HasFault {
		return l.retrievePaged(c, m.Body.(*types.RetrievePropertiesEx))
	},
	"ContinueRetrievePropertiesEx": func(l *Lab, c *callContext, m *simulator.Method) soap.HasFault {
		return l.continuePaged(c, m.Body.(*types.ContinueRetrievePropertiesEx))
	},
	"CancelRetrievePropertiesEx": func(l *Lab, c *callContext, m *simulator.Method) soap.HasFault {
		return l.cancelPaged(c, m.Body.(*types.CancelRetrievePropertiesEx))
	},
	"FetchUserPrivilegeOnEntities": func(l *Lab, c *callContext, m *simulator.Method) soap.HasFault {
		return l.fetchUserPrivilegeOnEntities(c, m.Body.(*types.FetchUserPrivilegeOnEntities))
	},
}

// fetchRequest stands in for the simulator's internal Fetch type, which the vim25 type
// table does not know; the middleware only needs to recognise the call.
type fetchRequest struct {
	This types.ManagedObjectReference `xml:"_this"`
	Prop string                       `xml:"prop"`
}

var vimTypes = types.TypeFunc()

func typeFunc(name string) (reflect.Type, bool) {
	if name == "Fetch" {
		return reflect.TypeOf(fetchRequest{}), true
	}
	t, ok := vimTypes(name)
	if !ok {
		// Some clients send prefixed type names ("ns1:TraversalSpec"), as the simulator knows.
		if parts := strings.SplitN(name, ":", 2); len(parts) == 2 {
			t, ok = vimTypes(parts[1])
		}
	}
	return t, ok
}

func (l *Lab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == certsPath && l.certs != nil:
		l.certs.serveCerts(w, r)
	case strings.HasPrefix(r.URL.Path, "/folder/"):
		l.serveFolder(w, r)
	case r.Method == http.MethodPost && (r.URL.Path == "/sdk" || r.URL.Path == "/sdk/vimService"):
		if acceptsGzip(r) {
			gz := newGzipWriter(w)
			defer func() { _ = gz.Close() }()
			l.serveSDK(gz, r)
			return
		}
		l.serveSDK(w, r)
	default:
		l.next.ServeHTTP(w, r)
	}
}

func (l *Lab) sessionOf(r *http.Request) (key, user string) {
	c, err := r.Cookie(soap.SessionCookieName)
	if err != nil {
		return "", ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return c.Value, l.sessions[c.Value]
}

// roleOfSession is the role of the user of a session key, or fallback when the key is not
// one of ours (empty: the caller's own session).
func (l *Lab) roleOfSession(key, fallback string) string {
	l.mu.Lock()
	user, ok := l.sessions[key]
	l.mu.Unlock()
	if ok {
		return l.accounts[user].Role
	}
	return fallback
}

// serveFolder guards datastore file access like vCenter: a live session is needed, and only
// users who may change files may upload.
// WORKAROUND for the simulator's /folder handler, which checks no session cookie at all.
func (l *Lab) serveFolder(w http.ResponseWriter, r *http.Request) {
	_, user := l.sessionOf(r)
	if user == "" {
		http.Error(w, "a vCenter session is needed (vmware_soap_session cookie)", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !granted(l.accounts[user].Role, "Datastore.FileManagement") {
		http.Error(w, "Permission to perform this operation was denied.", http.StatusForbidden)
		return
	}
	l.next.ServeHTTP(w, r)
}

func (l *Lab) serveSDK(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 256<<20))
	_ = r.Body.Close()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	method, err := simulator.UnmarshalBody(typeFunc, body)
	if err != nil {
		l.passThrough(w, r, "")
		return
	}
	key, user := l.sessionOf(r)

	switch method.Name {
	case "Login":
		l.login(w, r, method.Body.(*types.Login))
		return
	case "Logout":
		l.passThrough(w, r, method.Name)
		l.forget(key)
		return
	case "TerminateSession":
		rec := l.passThrough(w, r, method.Name)
		if rec != nil && rec.status == http.StatusOK {
			for _, id := range method.Body.(*types.TerminateSession).SessionId {
				l.forget(id)
			}
		}
		return
	}

	// A session the lab did not see log in (a cloned one) gets the least privilege.
	ctx := &callContext{user: user, role: roleReadOnly, key: key}
	if a, ok := l.accounts[user]; ok {
		ctx.role = a.Role
	}
	if key == "" || user == "" {
		// No session: the simulator answers NotAuthenticated for anything but logging in
		// and reading the service content, and property reads.
		// WORKAROUND for the simulator answering property reads without a session: vCenter
		// refuses them too, and a client must see its session has expired (log in again).
		switch method.Name {
		case "RetrieveProperties", "RetrievePropertiesEx", "ContinueRetrievePropertiesEx", "Fetch":
			l.delayCall(method.Name)
			writeSOAP(w, soapFaultBody("The session is not authenticated.",
				&types.NotAuthenticated{NoPermission: types.NoPermission{Object: method.This, PrivilegeId: "System.View"}}))
			return
		}
		l.passThrough(w, r, method.Name)
		return
	}
	if priv, obj := requiredPrivilege(method); priv != "" && !granted(ctx.role, priv) {
		l.delayCall(method.Name)
		writeSOAP(w, noPermission(obj, priv))
		return
	}
	if h, ok := handlers[method.Name]; ok {
		if method.Name == "RetrievePropertiesEx" && !pagedRead(method.Body.(*types.RetrievePropertiesEx)) {
			l.passThrough(w, r, method.Name)
			return
		}
		l.delayCall(method.Name)
		writeSOAP(w, l.safely(ctx, method, h))
		return
	}
	l.passThrough(w, r, method.Name)
}

// safely runs a handler, turning a panic into a SystemError rather than a dropped connection.
func (l *Lab) safely(ctx *callContext, m *simulator.Method, h handlerFunc) (res soap.HasFault) {
	defer func() {
		if p := recover(); p != nil {
			logf("panic in %s: %v", m.Name, p)
			res = soapFaultBody("A general system error occurred: internal error in the lab",
				&types.SystemError{Reason: "internal error in the lab"})
		}
	}()
	return h(l, ctx, m)
}

// login checks the user against the scenario's accounts; the simulator then creates the
// session (it accepts any non-empty name and password when none is configured).
func (l *Lab) login(w http.ResponseWriter, r *http.Request, req *types.Login) {
	a, ok := l.accounts[req.UserName]
	if !ok || a.Password != req.Password {
		l.delayCall("Login")
		writeSOAP(w, soapFaultBody("Cannot complete login due to an incorrect user name or password.", &types.InvalidLogin{}))
		return
	}
	rec := l.passThrough(w, r, "Login")
	if rec == nil {
		return
	}
	for _, c := range (&http.Response{Header: rec.header}).Cookies() {
		if c.Name == soap.SessionCookieName {
			l.mu.Lock()
			l.sessions[c.Value] = a.User
			l.mu.Unlock()
		}
	}
}

func (l *Lab) forget(key string) {
	l.mu.Lock()
	delete(l.sessions, key)
	l.forgetPages(key)
	l.mu.Unlock()
}

func (l *Lab) delayCall(name string) {
	d := l.delay
	if d == nil {
		return
	}
	ms := d.Delay + d.MethodDelay[name]
	if ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
}

// recorder buffers the simulator's answer, so that a panic can still be answered properly.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) WriteHeader(status int) { r.status = status }

// passThrough lets the simulator answer. It returns the buffered answer, or nil when the
// simulator panicked.
// WORKAROUND for the simulator panicking on a Fetch of an unset property (vm.snapshot with no
// snapshot, vm.parentVApp): the panic dropped the connection (RemoteDisconnected in pyVmomi);
// vCenter answers such a read with an empty result.
func (l *Lab) passThrough(w http.ResponseWriter, r *http.Request, name string) (rec *recorder) {
	rec = &recorder{header: http.Header{}}
	defer func() {
		if p := recover(); p != nil {
			logf("simulator panic in %s: %v", name, p)
			rec = nil
			if name == "Fetch" {
				writeRaw(w, `<FetchResponse xmlns="urn:vim25"></FetchResponse>`)
				return
			}
			writeSOAP(w, soapFaultBody("A general system error occurred: internal error in the simulator",
				&types.SystemError{Reason: "internal error in the simulator"}))
			return
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(asVCenterWrites(rec.body.Bytes()))
	}()
	l.next.ServeHTTP(rec, r)
	if strings.HasSuffix(name, "_Task") && rec.status == http.StatusOK {
		// The simulator runs its tasks before answering: a failed one can be given its
		// real message before the client sees it.
		if m := taskRef.FindSubmatch(rec.body.Bytes()); m != nil {
			fixTaskMessage(types.ManagedObjectReference{Type: "Task", Value: string(m[1])})
		}
	}
	return rec
}

var taskRef = regexp.MustCompile(`<returnval type="Task">([^<]+)</returnval>`)

// lookupVM finds a VM or gives the fault vCenter gives for a stale reference.
func lookupVM(ref types.ManagedObjectReference) (*simulator.VirtualMachine, soap.HasFault) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return nil, soapFaultBody(faultMessage(&types.ManagedObjectNotFound{Obj: ref}), &types.ManagedObjectNotFound{Obj: ref})
	}
	return vm, nil
}

// taskBody wraps a task reference in the response type of the named method.
func taskBody(method string, ref types.ManagedObjectReference) soap.HasFault {
	switch method {
	case "ReconfigVM_Task":
		return &methods.ReconfigVM_TaskBody{Res: &types.ReconfigVM_TaskResponse{Returnval: ref}}
	case "UpgradeVM_Task":
		return &methods.UpgradeVM_TaskBody{Res: &types.UpgradeVM_TaskResponse{Returnval: ref}}
	case "RelocateVM_Task":
		return &methods.RelocateVM_TaskBody{Res: &types.RelocateVM_TaskResponse{Returnval: ref}}
	case "MigrateVM_Task":
		return &methods.MigrateVM_TaskBody{Res: &types.MigrateVM_TaskResponse{Returnval: ref}}
	case "PowerOnVM_Task":
		return &methods.PowerOnVM_TaskBody{Res: &types.PowerOnVM_TaskResponse{Returnval: ref}}
	case "PowerOffVM_Task":
		return &methods.PowerOffVM_TaskBody{Res: &types.PowerOffVM_TaskResponse{Returnval: ref}}
	}
	panic("no task body for " + method)
}
