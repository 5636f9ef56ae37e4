package framework

import "time"

// InspectionStatus is where an inspection is in its life: planning →
// fieldwork → moderation → locked (CheckInspectionTransition), and, once
// published (locked), purged: its case-level personal data removed and its
// report frozen (CheckPurge; docs/retention.md).
type InspectionStatus string

// Inspection statuses.
const (
	InspectionPlanning   InspectionStatus = "planning"
	InspectionFieldwork  InspectionStatus = "fieldwork"
	InspectionModeration InspectionStatus = "moderation"
	InspectionLocked     InspectionStatus = "locked"
	InspectionPurged     InspectionStatus = "purged"
)

// Role is what a user may do on an inspection (access.go). "" is no role:
// not on the team.
type Role string

// Roles on an inspection; RoleAdmin is global.
const (
	RoleLead      Role = "lead"
	RoleInspector Role = "inspector"
	RoleQA        Role = "qa"
	RoleAnalyst   Role = "analyst"
	RoleAdmin     Role = "admin"
)

// CaseStatus is where a case's recording is: not_started → in_progress →
// submitted → qa_checked → locked (CheckCaseTransition).
type CaseStatus string

// Case statuses.
const (
	CaseNotStarted CaseStatus = "not_started"
	CaseInProgress CaseStatus = "in_progress"
	CaseSubmitted  CaseStatus = "submitted"
	CaseQAChecked  CaseStatus = "qa_checked"
	CaseLocked     CaseStatus = "locked"
)

// Inspection is one inspection of one unit under one framework version.
type Inspection struct {
	ID               string
	Name             string
	Unit             string
	FrameworkID      string
	FrameworkVersion int
	Status           InspectionStatus
	CreatedAt        time.Time
	// Role is the reading user's role on it ("admin" for an administrator
	// who is not on the team).
	Role Role
}

// Actor is who makes a write, from which device: every write is
// attributable.
type Actor struct {
	User   string
	Device string
	Admin  bool
}

// Case is one sampled case: a reference (never a name), its attributes and
// the inspector it is assigned to.
type Case struct {
	Ref        string
	Attributes map[string]string
	Inspector  string
	Status     CaseStatus
	// StatusRevision counts the case's deliberate status changes (set by
	// hand or by a status op): the base a status op queued offline names.
	StatusRevision int64
}

// Answer is the current answer to one question for one case.
type Answer struct {
	CaseRef    string
	QuestionID string
	Value      string
	Note       string
	Revision   int64
	UpdatedBy  string
	DeviceID   string
	UpdatedAt  time.Time
}

// Judgement is the lead inspector's rating of a judged standard.
type Judgement struct {
	StandardID string
	Rating     string
	Rationale  string
	JudgedBy   string
	JudgedAt   time.Time
}

// ValidRole reports whether role is one of the per-inspection roles.
func ValidRole(role Role) bool {
	switch role {
	case RoleLead, RoleInspector, RoleQA, RoleAnalyst:
		return true
	}
	return false
}

// AuditEntry is one row of the audit trail: who did what to which entity,
// from which device, with the entity before and after (JSON).
type AuditEntry struct {
	Seq                                         int64
	At                                          time.Time
	User, Device, Action, Entity, Before, After string
}

// User is an authenticated user: a name, and whether they administer the
// whole server (EffectiveRole).
type User struct {
	Name  string
	Admin bool
}
