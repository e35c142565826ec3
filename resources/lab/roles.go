package main

// WORKAROUND for permissions the simulator stores but does not enforce, and for
// HasPrivilegeOnEntity, which always says yes. The middleware enforces the scenario's three
// roles and answers privilege questions truthfully, with the privilege ids vCenter uses
// (wizard/kb/model.py lists the ones the fixes need as Privilege).

import (
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

const (
	privAdvancedConfig = "VirtualMachine.Config.AdvancedConfig"
	privEditDevice     = "VirtualMachine.Config.EditDevice"
	privAddRemove      = "VirtualMachine.Config.AddRemoveDevice"
	privUpgradeHW      = "VirtualMachine.Config.UpgradeVirtualHardware"
	privSettings       = "VirtualMachine.Config.Settings"
	privPowerOff       = "VirtualMachine.Interact.PowerOff"
	privPowerOn        = "VirtualMachine.Interact.PowerOn"
	privReset          = "VirtualMachine.Interact.Reset"
	privSuspend        = "VirtualMachine.Interact.Suspend"
	privGuestExecute   = "VirtualMachine.GuestOperations.Execute"
	privGuestModify    = "VirtualMachine.GuestOperations.Modify"
	privGuestQuery     = "VirtualMachine.GuestOperations.Query"
	privHotMigrate     = "Resource.HotMigrate"
	privColdMigrate    = "Resource.ColdMigrate"
)

// readPrivileges are all a read-only user holds.
var readPrivileges = map[string]bool{"System.Anonymous": true, "System.View": true, "System.Read": true}

// powerPrivileges are what a no-power user lacks.
var powerPrivileges = map[string]bool{privPowerOff: true, privPowerOn: true, privReset: true, privSuspend: true}

func granted(role, priv string) bool {
	switch role {
	case roleAdmin:
		return true
	case roleNoPower:
		return !powerPrivileges[priv]
	default:
		return readPrivileges[priv]
	}
}

// methodPrivileges maps the changing methods to the privilege vCenter checks.
var methodPrivileges = map[string]string{
	"PowerOnVM_Task":                  privPowerOn,
	"PowerOnMultiVM_Task":             privPowerOn,
	"PowerOffVM_Task":                 privPowerOff,
	"ShutdownGuest":                   privPowerOff,
	"RebootGuest":                     privReset,
	"ResetVM_Task":                    privReset,
	"SuspendVM_Task":                  privSuspend,
	"StandbyGuest":                    privSuspend,
	"UpgradeVM_Task":                  privUpgradeHW,
	"UpgradeTools_Task":               "VirtualMachine.Interact.ToolsInstall",
	"StartProgramInGuest":             privGuestExecute,
	"TerminateProcessInGuest":         privGuestExecute,
	"ListProcessesInGuest":            privGuestQuery,
	"InitiateFileTransferFromGuest":   privGuestQuery,
	"InitiateFileTransferToGuest":     privGuestModify,
	"MakeDirectoryInGuest":            privGuestModify,
	"DeleteFileInGuest":               privGuestModify,
	"DeleteDirectoryInGuest":          privGuestModify,
	"CreateSnapshot_Task":             "VirtualMachine.State.CreateSnapshot",
	"CreateSnapshotEx_Task":           "VirtualMachine.State.CreateSnapshot",
	"RemoveSnapshot_Task":             "VirtualMachine.State.RemoveSnapshot",
	"RemoveAllSnapshots_Task":         "VirtualMachine.State.RemoveSnapshot",
	"ConsolidateVMDisks_Task":         "VirtualMachine.State.RemoveSnapshot",
	"RevertToSnapshot_Task":           "VirtualMachine.State.RevertToSnapshot",
	"RevertToCurrentSnapshot_Task":    "VirtualMachine.State.RevertToSnapshot",
	"RenameSnapshot":                  "VirtualMachine.State.RenameSnapshot",
	"Rename_Task":                     "VirtualMachine.Config.Rename",
	"Destroy_Task":                    "VirtualMachine.Inventory.Delete",
	"UnregisterVM":                    "VirtualMachine.Inventory.Unregister",
	"CloneVM_Task":                    "VirtualMachine.Provisioning.Clone",
	"MarkAsTemplate":                  "VirtualMachine.Provisioning.MarkAsTemplate",
	"MarkAsVirtualMachine":            "VirtualMachine.Provisioning.MarkAsVM",
	"CreateVM_Task":                   "VirtualMachine.Inventory.Create",
	"RegisterVM_Task":                 "VirtualMachine.Inventory.Register",
	"MoveIntoFolder_Task":             "VirtualMachine.Inventory.Move",
	"SetCustomValue":                  "Global.SetCustomField",
	"PostEvent":                       "Global.LogEvent",
	"UpdateOptions":                   "Global.Settings",
	"ReconfigureComputeResource_Task": "Host.Inventory.EditCluster",
	"ReconfigureCluster_Task":         "Host.Inventory.EditCluster",
	"AddHost_Task":                    "Host.Inventory.AddHostToCluster",
	"CreateFolder":                    "Folder.Create",
	"CreateDatacenter":                "Datacenter.Create",
	"CreateClusterEx":                 "Host.Inventory.CreateCluster",
	"SetEntityPermissions":            "Authorization.ModifyPermissions",
	"RemoveEntityPermission":          "Authorization.ModifyPermissions",
	"AddAuthorizationRole":            "Authorization.ModifyRoles",
	"UpdateAuthorizationRole":         "Authorization.ModifyRoles",
	"RemoveAuthorizationRole":         "Authorization.ModifyRoles",
	"DeleteDatastoreFile_Task":        "Datastore.FileManagement",
	"MoveDatastoreFile_Task":          "Datastore.FileManagement",
	"CopyDatastoreFile_Task":          "Datastore.FileManagement",
	"MakeDirectory":                   "Datastore.FileManagement",
}

// readOnlyCalls start with a changing verb but change nothing a user owns: views, filters
// and collectors live in the caller's session.
var readOnlyCalls = map[string]bool{
	"CreateFilter": true, "CreatePropertyCollector": true, "CreateContainerView": true,
	"CreateListView": true, "CreateListViewFromView": true, "CreateInventoryView": true,
	"CreateCollectorForEvents": true, "CreateCollectorForTasks": true, "DestroyPropertyFilter": true,
	"DestroyPropertyCollector": true, "DestroyView": true, "DestroyCollector": true,
	"SetCollectorPageSize": true, "ResetCollector": true, "RewindCollector": true, "SetLocale": true,
	"UpdateViewData": true, "ModifyListView": true, "ResetListView": true, "ResetListViewFromView": true,
	"SearchDatastore_Task": true, "SearchDatastoreSubFolders_Task": true, "QueryVMotionCompatibilityEx_Task": true,
	"CheckMigrate_Task": true, "CheckRelocate_Task": true, "CheckCompatibility_Task": true,
}

var changingPrefixes = []string{
	"Create", "Destroy", "Remove", "Update", "Reconfigure", "Move", "Rename", "Set", "Add",
	"Register", "Unregister", "Upgrade", "Power", "Reset", "Suspend", "Shutdown", "Reboot",
	"Standby", "Mark", "Clone", "Revert", "Migrate", "Relocate", "Delete", "Make", "Initiate",
	"Terminate", "Start", "Apply", "Enter", "Exit", "Disconnect", "Reconnect", "Install", "Mount", "Unmount",
}

// requiredPrivilege says which privilege a call needs and on which object; "" when the call
// changes nothing.
func requiredPrivilege(m *simulator.Method) (string, types.ManagedObjectReference) {
	switch req := m.Body.(type) {
	case *types.ReconfigVM_Task:
		return reconfigPrivilege(&req.Spec), m.This
	case *types.RelocateVM_Task, *types.MigrateVM_Task:
		if isPoweredOn(m.This) {
			return privHotMigrate, m.This
		}
		return privColdMigrate, m.This
	case *types.StartProgramInGuest:
		return privGuestExecute, req.Vm
	case *types.ListProcessesInGuest:
		return privGuestQuery, req.Vm
	case *types.TerminateProcessInGuest:
		return privGuestExecute, req.Vm
	case *types.InitiateFileTransferToGuest:
		return privGuestModify, req.Vm
	case *types.InitiateFileTransferFromGuest:
		return privGuestQuery, req.Vm
	}
	if p, ok := methodPrivileges[m.Name]; ok {
		return p, m.This
	}
	if readOnlyCalls[m.Name] {
		return "", m.This
	}
	for _, prefix := range changingPrefixes {
		if strings.HasPrefix(m.Name, prefix) {
			return "Global.Settings", m.This
		}
	}
	return "", m.This
}

// reconfigPrivilege is the first privilege a ReconfigVM spec needs.
func reconfigPrivilege(spec *types.VirtualMachineConfigSpec) string {
	for _, c := range spec.DeviceChange {
		if c.GetVirtualDeviceConfigSpec().Operation == types.VirtualDeviceConfigSpecOperationEdit {
			return privEditDevice
		}
		return privAddRemove
	}
	switch {
	case len(spec.ExtraConfig) > 0:
		return privAdvancedConfig
	case spec.ScheduledHardwareUpgradeInfo != nil:
		return privUpgradeHW
	case spec.Name != "":
		return "VirtualMachine.Config.Rename"
	case spec.Annotation != "":
		return "VirtualMachine.Config.Annotation"
	case spec.NumCPUs != 0:
		return "VirtualMachine.Config.CPUCount"
	case spec.MemoryMB != 0:
		return "VirtualMachine.Config.Memory"
	}
	return privSettings
}

func isPoweredOn(ref types.ManagedObjectReference) bool {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return false
	}
	on := false
	simulator.Map.WithLock(vm, func() {
		on = vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn
	})
	return on
}

func noPermission(obj types.ManagedObjectReference, priv string) soap.HasFault {
	return soapFaultBody("Permission to perform this operation was denied.",
		&types.NoPermission{Object: obj, PrivilegeId: priv})
}

// allPrivileges is every privilege there is: those of the built-in Admin role (the
// simulator's privilegeList is empty), for FetchUserPrivilegeOnEntities.
func allPrivileges() []string {
	content := simulator.Map.Get(serviceInstance).(*simulator.ServiceInstance).Content
	am := simulator.Map.Get(*content.AuthorizationManager).(*simulator.AuthorizationManager)
	for _, r := range am.RoleList {
		if r.Name == "Admin" {
			return r.Privilege
		}
	}
	return nil
}

func (l *Lab) hasPrivilegeOnEntity(ctx *callContext, req *types.HasPrivilegeOnEntity) soap.HasFault {
	role := l.roleOfSession(req.SessionId, ctx.role)
	res := make([]bool, len(req.PrivId))
	for i, p := range req.PrivId {
		res[i] = granted(role, p)
	}
	return &hasPrivilegeBody{Res: &HasPrivilegeOnEntityResponse{Returnval: res}}
}

// hasPrivilegeBody answers HasPrivilegeOnEntity with every answer written.
// WORKAROUND for govmomi's HasPrivilegeOnEntityResponse ([]bool with omitempty), whose
// encoder drops each false: a client would get fewer answers than it asked privileges.
type hasPrivilegeBody struct {
	Res    *HasPrivilegeOnEntityResponse
	Fault_ *soap.Fault
}

func (b *hasPrivilegeBody) Fault() *soap.Fault { return b.Fault_ }

// HasPrivilegeOnEntityResponse is named as the SOAP element it becomes.
type HasPrivilegeOnEntityResponse struct {
	Returnval []bool
}

// MarshalXML writes one returnval element per privilege asked.
func (r *HasPrivilegeOnEntityResponse) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, v := range r.Returnval {
		if err := e.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: "returnval"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

func (l *Lab) hasPrivilegeOnEntities(ctx *callContext, req *types.HasPrivilegeOnEntities) soap.HasFault {
	role := l.roleOfSession(req.SessionId, ctx.role)
	res := make([]types.EntityPrivilege, 0, len(req.Entity))
	for _, e := range req.Entity {
		ep := types.EntityPrivilege{Entity: e}
		for _, p := range req.PrivId {
			ep.PrivAvailability = append(ep.PrivAvailability, types.PrivilegeAvailability{PrivId: p, IsGranted: granted(role, p)})
		}
		res = append(res, ep)
	}
	return &methods.HasPrivilegeOnEntitiesBody{Res: &types.HasPrivilegeOnEntitiesResponse{Returnval: res}}
}

func (l *Lab) fetchUserPrivilegeOnEntities(ctx *callContext, req *types.FetchUserPrivilegeOnEntities) soap.HasFault {
	role := ctx.role
	if a, ok := l.accounts[req.UserName]; ok {
		role = a.Role
	}
	var privs []string
	for _, p := range allPrivileges() {
		if granted(role, p) {
			privs = append(privs, p)
		}
	}
	res := make([]types.UserPrivilegeResult, 0, len(req.Entities))
	for _, e := range req.Entities {
		res = append(res, types.UserPrivilegeResult{Entity: e, Privileges: privs})
	}
	return &methods.FetchUserPrivilegeOnEntitiesBody{Res: &types.FetchUserPrivilegeOnEntitiesResponse{Returnval: res}}
}
