package framework

// EffectiveRole is a user's role on an inspection: RoleAdmin for a global
// administrator, on the team or not (an administrator keeps every lead, QA
// and analyst power on every inspection, even where a cases.csv made them
// an inspector), else their team role ("" when not on the team).
func EffectiveRole(teamRole Role, admin bool) Role {
	if admin {
		return RoleAdmin
	}
	return teamRole
}

// CanReadInspection says whether a role may read an inspection and list
// its cases (which cases, CanSeeCase decides): anyone on the team.
func CanReadInspection(role Role) bool {
	switch role {
	case RoleAdmin, RoleLead, RoleInspector, RoleQA, RoleAnalyst:
		return true
	}
	return false
}

// CanWriteInspection says whether a role may write into an inspection at
// all (which answers, CheckAnswerWrite decides per case): the lead, QA and
// inspectors; analysts only read.
func CanWriteInspection(role Role) bool {
	switch role {
	case RoleAdmin, RoleLead, RoleQA, RoleInspector:
		return true
	}
	return false
}

// CanLead says whether a role may do what only the lead does: change the
// inspection's status, import cases, record judgements.
func CanLead(role Role) bool { return role == RoleAdmin || role == RoleLead }

// CanReadReport says whether a role may read an inspection's figures: the
// report, its exports and the live view. The figures pool every case, so
// an inspector, who sees only their own, does not; QA, who see every case
// to moderate it, do.
func CanReadReport(role Role) bool {
	switch role {
	case RoleAdmin, RoleLead, RoleQA, RoleAnalyst:
		return true
	}
	return false
}

// CanSeeCase is the one rule for who may see a case: its answers, notes,
// status and inspector. role is the caller's role on the case's inspection
// (RoleAdmin for a global administrator who is not on the team, "" for
// someone not on the team); assigned says the case is the caller's own.
// Leads, QA and analysts see every case of their inspection, an inspector
// only the cases assigned to them, an administrator everything.
//
// Pull's filter (store.Changes) is this rule written in SQL, and
// TestCanSeeCaseMatchesPull holds the two together. Every ack, error and
// listing that would carry a case's contents asks this first.
func CanSeeCase(role Role, assigned bool) bool {
	switch role {
	case RoleAdmin, RoleLead, RoleQA, RoleAnalyst:
		return true
	case RoleInspector:
		return assigned
	}
	return false
}

// CaseHiddenError is what a caller who may not see a case is told about it,
// whether it exists or not: it names only what the caller sent, so that
// refusals reveal neither a case's existence, nor its status, nor whose it
// is.
func CaseHiddenError(inspectionID, caseRef string) error {
	return Errorf(CodePermission, "case %s of inspection %s is not one of your cases", caseRef, inspectionID)
}

// NotOnTeamError is what a caller who is not on an inspection's team is
// told, whether the inspection exists or not.
func NotOnTeamError(inspectionID string) error {
	return Errorf(CodePermission, "you are not on the team of inspection %s", inspectionID)
}

// AgreementScope is which agreement figures a role may read.
type AgreementScope int

const (
	AgreementNone AgreementScope = iota // none at all
	AgreementOwn                        // only the figures of the caller's own cases
	AgreementAll                        // every question's and every inspector's
)

// AgreementView is the one rule for who reads the agreement figures
// (docs/agreement.md): whoever reads the report (the lead, QA, analysts,
// administrators) reads them all; an inspector reads only their own — their
// row, and each question's figure computed over their own double-marked
// cases alone, never another inspector's — so that they learn from QA's
// marking of their cases without seeing how colleagues fared.
func AgreementView(role Role) AgreementScope {
	switch {
	case CanReadReport(role):
		return AgreementAll
	case role == RoleInspector:
		return AgreementOwn
	}
	return AgreementNone
}

// CanSeeMarkingValues is the blind rule of second marking (docs/qa.md),
// the one exception to CanSeeCase: whether user, with role on the
// inspection (assigned: the case is theirs), may see the values, notes and
// conflicts of one marking of a case. sel is the case's QA selection (nil
// when it has none: there is only the first marking, seen as CanSeeCase
// says). Until both markings are submitted (sel.Lifted) the QA marker does
// not see the first marking and nobody but the QA marker sees the second;
// the lead and administrators see both throughout; once lifted, everyone
// who may see the case sees both.
//
// Every path that carries a marking's values asks it: pull (its SQL in
// store.Changes, held to this by TestBlindPullMatchesRule), ListAnswers,
// acks and conflicts of pushed ops, reports' case-level parts, evidence,
// the live view and the dataset.
func CanSeeMarkingValues(role Role, user string, assigned bool, sel *QASelection, side MarkingSide) bool {
	if !CanSeeCase(role, assigned) {
		return false
	}
	if sel == nil {
		return side == FirstMarking
	}
	if sel.Lifted || CanLead(role) {
		return true
	}
	if side == FirstMarking {
		return user != sel.QA
	}
	return user == sel.QA
}

// MarkingHiddenError is what a QA marker is told of a write or read that
// would show them the first marking of a case they are marking blind: it
// names only the case, never a value.
func MarkingHiddenError(inspectionID, caseRef string) error {
	return Errorf(CodePermission, "case %s of inspection %s is yours to second-mark: its first marking is hidden until both markings are submitted", caseRef, inspectionID)
}
