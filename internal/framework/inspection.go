package framework

import "time"

// Inspection statuses.
const (
	InspectionPlanning   = "planning"
	InspectionFieldwork  = "fieldwork"
	InspectionModeration = "moderation"
	InspectionLocked     = "locked"
)

// Roles on an inspection; RoleAdmin is global.
const (
	RoleLead      = "lead"
	RoleInspector = "inspector"
	RoleQA        = "qa"
	RoleAnalyst   = "analyst"
	RoleAdmin     = "admin"
)

// Case statuses.
const (
	CaseNotStarted = "not_started"
	CaseInProgress = "in_progress"
	CaseSubmitted  = "submitted"
	CaseQAChecked  = "qa_checked"
	CaseLocked     = "locked"
)

// Inspection is one inspection of one unit under one framework version.
type Inspection struct {
	ID               string
	Name             string
	Unit             string
	FrameworkID      string
	FrameworkVersion int
	Status           string
	CreatedAt        time.Time
	// Role is the reading user's role on it ("admin" for an administrator
	// who is not on the team).
	Role string
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
	Status     string
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
func ValidRole(role string) bool {
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
