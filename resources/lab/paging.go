package main

// Paged property reads, as vCenter pages them. The simulator answers RetrievePropertiesEx with
// every object at once and knows no ContinueRetrievePropertiesEx; vCenter hands out at most
// maxObjects objects (100 when the client leaves it unset) and a token for the rest. A client
// that forgets to follow the token, or that shows rows page by page, can only be tested
// against a server that pages.
//
// The middleware runs the simulator's property collector itself for reads that start from
// inventory objects (the root folder, a VM), keeps what is left of the answer under a token
// (per session, dropped at logout), and answers each ContinueRetrievePropertiesEx with the
// next page. Reads that start from an object of the caller's session (a container view) go to
// the simulator unpaged: the middleware cannot see the simulator's session registry.

import (
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// defaultPage is vCenter's page when maxObjects is unset.
const defaultPage = 100

// pagedResult is what is left of one answer: the objects not yet read, and what to read of
// them.
type pagedResult struct {
	session string
	refs    []types.ManagedObjectReference
	props   []types.PropertySpec
	size    int
}

// pagedRead says whether the middleware pages this read (see the file's comment).
func pagedRead(req *types.RetrievePropertiesEx) bool {
	if req.This.Value != "propertyCollector" {
		return false
	}
	for _, spec := range req.SpecSet {
		for _, o := range spec.ObjectSet {
			if strings.HasPrefix(o.Obj.Value, "session[") {
				return false
			}
		}
	}
	return true
}

// retrievePaged answers a RetrievePropertiesEx with its first page. The objects are found
// first (the traversal alone, no property read), then the properties of one page are read
// per call: the first page of 10,000 VMs costs what a page costs, as on vCenter, not what
// the whole answer would. A read of one page only costs what the simulator's own read costs:
// the traversal, then the properties.
func (l *Lab) retrievePaged(c *callContext, req *types.RetrievePropertiesEx) soap.HasFault {
	pc, ok := simulator.Map.Get(req.This).(*simulator.PropertyCollector)
	if !ok {
		return soapFaultBody(faultMessage(&types.ManagedObjectNotFound{Obj: req.This}), &types.ManagedObjectNotFound{Obj: req.This})
	}
	size := defaultPage
	if req.Options.MaxObjects > 0 {
		size = int(req.Options.MaxObjects)
	}
	ctx := sessionContext(c.user, c.key)
	find := *req
	find.SpecSet = make([]types.PropertyFilterSpec, len(req.SpecSet))
	var props []types.PropertySpec
	for i, spec := range req.SpecSet {
		find.SpecSet[i] = spec
		find.SpecSet[i].PropSet = make([]types.PropertySpec, len(spec.PropSet))
		for j, p := range spec.PropSet {
			find.SpecSet[i].PropSet[j] = types.PropertySpec{Type: p.Type}
		}
		props = append(props, spec.PropSet...)
	}
	found, ok := pc.RetrievePropertiesEx(ctx, &find).(*methods.RetrievePropertiesExBody)
	if !ok || found.Fault() != nil || found.Res == nil || found.Res.Returnval == nil {
		return found
	}
	refs := make([]types.ManagedObjectReference, len(found.Res.Returnval.Objects))
	for i, o := range found.Res.Returnval.Objects {
		refs[i] = o.Obj
	}
	res := l.page(pc, ctx, &pagedResult{session: c.key, refs: refs, props: props, size: size})
	return &methods.RetrievePropertiesExBody{Res: &types.RetrievePropertiesExResponse{Returnval: res}}
}

// page reads the properties of the next page of rest's objects, keeping the others under a
// new token if there are others.
func (l *Lab) page(pc *simulator.PropertyCollector, ctx *simulator.Context, rest *pagedResult) *types.RetrieveResult {
	n := rest.size
	if n > len(rest.refs) {
		n = len(rest.refs)
	}
	spec := types.PropertyFilterSpec{PropSet: rest.props, ReportMissingObjectsInResults: types.NewBool(true)}
	for _, ref := range rest.refs[:n] {
		spec.ObjectSet = append(spec.ObjectSet, types.ObjectSpec{Obj: ref})
	}
	result := &types.RetrieveResult{}
	body, ok := pc.RetrievePropertiesEx(ctx, &types.RetrievePropertiesEx{This: pc.Self, SpecSet: []types.PropertyFilterSpec{spec}}).(*methods.RetrievePropertiesExBody)
	if ok && body.Res != nil && body.Res.Returnval != nil {
		result.Objects = body.Res.Returnval.Objects
	}
	if n < len(rest.refs) {
		l.mu.Lock()
		l.nextToken++
		result.Token = strconv.FormatInt(l.nextToken, 10)
		l.pages[result.Token] = &pagedResult{session: rest.session, refs: rest.refs[n:], props: rest.props, size: rest.size}
		l.mu.Unlock()
	}
	return result
}

// continuePaged answers ContinueRetrievePropertiesEx with the next page of a token's answer.
func (l *Lab) continuePaged(c *callContext, req *types.ContinueRetrievePropertiesEx) soap.HasFault {
	rest, fault := l.takeToken(c, req.Token)
	if fault != nil {
		return fault
	}
	pc := simulator.Map.Get(req.This).(*simulator.PropertyCollector)
	res := l.page(pc, sessionContext(c.user, c.key), rest)
	return &methods.ContinueRetrievePropertiesExBody{Res: &types.ContinueRetrievePropertiesExResponse{Returnval: *res}}
}

// cancelPaged drops what is left of a token's answer.
func (l *Lab) cancelPaged(c *callContext, req *types.CancelRetrievePropertiesEx) soap.HasFault {
	if _, fault := l.takeToken(c, req.Token); fault != nil {
		return fault
	}
	return &methods.CancelRetrievePropertiesExBody{Res: &types.CancelRetrievePropertiesExResponse{}}
}

// takeToken removes and returns what is left under a token of the caller's session; another
// session's token is refused as unknown (and stays its owner's), as vCenter does.
func (l *Lab) takeToken(c *callContext, token string) (*pagedResult, soap.HasFault) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rest, ok := l.pages[token]
	if !ok || rest.session != c.key {
		return nil, soapFaultBody("A specified parameter was not correct: token", &types.InvalidArgument{InvalidProperty: "token"})
	}
	delete(l.pages, token)
	return rest, nil
}

// forgetPages drops every answer left for a session (at logout, as vCenter does). The caller
// holds l.mu.
func (l *Lab) forgetPages(session string) {
	for token, rest := range l.pages {
		if rest.session == session {
			delete(l.pages, token)
		}
	}
}
