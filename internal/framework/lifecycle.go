package framework

import (
	"fmt"
	"slices"
	"strings"
)

// caseOrder is the forward order of case statuses.
var caseOrder = []CaseStatus{CaseNotStarted, CaseInProgress, CaseSubmitted, CaseQAChecked, CaseLocked}

// ValidCaseStatus reports whether s is a case status.
func ValidCaseStatus(s CaseStatus) bool { return slices.Contains(caseOrder, s) }

// CheckCaseTransition decides whether someone with role on the inspection
// (assigned: the case is theirs; admin for a global administrator) may move
// a case from one status to another. Moving forward follows the order
// not_started → in_progress → submitted → qa_checked → locked, one step at
// a time (in_progress may also be entered from not_started implicitly by
// the first answer). Moving back is a return (to in_progress) or an unlock,
// needs a reason, and belongs to QA and the lead.
func CheckCaseTransition(role Role, assigned bool, from, to CaseStatus, reason string) error {
	if !ValidCaseStatus(to) || to == CaseNotStarted {
		return Errorf(CodeInvalid, "status %q is not one of in_progress, submitted, qa_checked, locked", to)
	}
	fi, ti := slices.Index(caseOrder, from), slices.Index(caseOrder, to)
	lead := CanLead(role)
	switch {
	case ti == fi:
		return Errorf(CodePrecondition, "case is already %s", to)
	case ti > fi+1 && !(from == CaseNotStarted && to == CaseSubmitted):
		return Errorf(CodePrecondition, "case is %s: it must be %s before %s", from, caseOrder[ti-1], to)
	case ti < fi:
		if strings.TrimSpace(reason) == "" {
			return Errorf(CodeInvalid, "moving a case back from %s to %s needs a reason", from, to)
		}
		if from == CaseLocked || from == CaseQAChecked {
			if !lead {
				return Errorf(CodePermission, "only the lead inspector can reopen a %s case", from)
			}
			return nil
		}
		if !lead && role != RoleQA {
			return Errorf(CodePermission, "only QA or the lead inspector can return a submitted case")
		}
		return nil
	}
	switch to {
	case CaseInProgress, CaseSubmitted:
		if lead || role == RoleQA || role == RoleInspector && assigned {
			return nil
		}
		return Errorf(CodePermission, "only the assigned inspector, QA or the lead can move a case to %s", to)
	case CaseQAChecked:
		if lead || role == RoleQA {
			return nil
		}
		return Errorf(CodePermission, "only QA or the lead inspector can mark a case QA-checked")
	case CaseLocked:
		if lead {
			return nil
		}
		return Errorf(CodePermission, "only the lead inspector can lock a case")
	}
	return nil
}

// CheckWritable is the one lock rule: a locked inspection takes no writes
// at all (answers, cases, judgements, case status changes), and a locked
// case's answers are not changed. caseRef is "" for a write to the
// inspection rather than to one case's answers. Every write path calls it
// before writing, on the server and in the offline store.
func CheckWritable(inspectionID string, inspectionStatus InspectionStatus, caseRef string, caseStatus CaseStatus) error {
	if inspectionStatus == InspectionPurged {
		return PurgedError(inspectionID)
	}
	if inspectionStatus == InspectionLocked {
		return Errorf(CodePrecondition, "inspection %s is locked", inspectionID)
	}
	if caseRef != "" && caseStatus == CaseLocked {
		return Errorf(CodePrecondition, "case %s is locked", caseRef)
	}
	return nil
}

// CheckAnswerWrite decides whether someone with role on the inspection
// (EffectiveRole; assigned: the case is theirs) may change a case's
// answers now: nothing in a locked inspection or case (CheckWritable);
// otherwise the assigned inspector while the case is not yet submitted,
// QA until it is QA-checked, the lead until it is locked. The server's
// push and RecordAnswer and the offline store all call it, so the
// inspector learns offline what the server would say.
func CheckAnswerWrite(role Role, assigned bool, inspectionID string, inspectionStatus InspectionStatus, c Case) error {
	if err := CheckWritable(inspectionID, inspectionStatus, c.Ref, c.Status); err != nil {
		return err
	}
	if err := checkAnswerRole(role, assigned, c.Status); err != nil {
		return fmt.Errorf("case %s: %w", c.Ref, err)
	}
	return nil
}

func checkAnswerRole(role Role, assigned bool, caseStatus CaseStatus) error {
	lead := CanLead(role)
	switch caseStatus {
	case CaseQAChecked:
		if !lead {
			return Errorf(CodePrecondition, "case is QA-checked: only the lead inspector can change it")
		}
	case CaseSubmitted:
		if !lead && role != RoleQA {
			return Errorf(CodePrecondition, "case is submitted: ask QA or the lead to return it before changing answers")
		}
	}
	switch {
	case lead, role == RoleQA:
		return nil
	case role == RoleInspector && assigned:
		return nil
	case role == RoleInspector:
		return Errorf(CodePermission, "case is assigned to another inspector")
	case role == "":
		return Errorf(CodePermission, "you are not on this inspection's team")
	}
	return Errorf(CodePermission, "role %s cannot write answers", role)
}

// CheckInspectionTransition decides an inspection status change (the lead
// or an administrator only; unlocking needs a reason).
func CheckInspectionTransition(role Role, from, to InspectionStatus, reason string) error {
	switch to {
	case InspectionPlanning, InspectionFieldwork, InspectionModeration, InspectionLocked:
	default:
		return Errorf(CodeInvalid, "status %q is not one of planning, fieldwork, moderation, locked", to)
	}
	if !CanLead(role) {
		return Errorf(CodePermission, "only the lead inspector can change the inspection's status")
	}
	if from == InspectionPurged {
		return PurgedError("")
	}
	if from == to {
		return Errorf(CodePrecondition, "inspection is already %s", to)
	}
	if from == InspectionLocked && strings.TrimSpace(reason) == "" {
		return Errorf(CodeInvalid, "unlocking an inspection needs a reason")
	}
	return nil
}

// PurgedError is the refusal of any write to, or status change of, a
// purged inspection: its case data is gone, for good.
func PurgedError(inspectionID string) error {
	what := "inspection"
	if inspectionID != "" {
		what += " " + inspectionID
	}
	return Errorf(CodePrecondition, "%s was purged after publication: its case data is gone and it takes no more writes; its figures are kept as a frozen report", what)
}

// CheckPurge decides whether an inspection may be purged: only once
// published (locked), and only once.
func CheckPurge(inspectionID string, status InspectionStatus) error {
	switch status {
	case InspectionLocked:
		return nil
	case InspectionPurged:
		return Errorf(CodePrecondition, "inspection %s was purged already", inspectionID)
	}
	return Errorf(CodePrecondition, "inspection %s is %s: only a published (locked) inspection can be purged", inspectionID, status)
}

// MissingError is the FailedPrecondition error for submitting an
// incomplete case. It lists every missing question, in framework order:
// the list is what the inspector works through (walk's "g QID"), so it is
// never cut short (a framework's size bounds it).
func MissingError(caseRef string, missing []string) error {
	return Errorf(CodePrecondition, "case %s cannot be submitted: %d applicable question(s) unanswered: %s",
		caseRef, len(missing), strings.Join(missing, ", "))
}

// CaseStatusOp is what an op that moves a case to another status asks for
// (the offline submit: queued in the outbox, decided on the next sync).
type CaseStatusOp struct {
	Status CaseStatus
	// Reason is audited; moving a case back needs one.
	Reason string
}

// CheckStatusChange is the whole rule for moving a case to another
// status, the same whether asked online (SetCaseStatus) or by a queued
// status op on the Push stream: the lock (CheckWritable), the transition
// (CheckCaseTransition) and, for a submission, that every applicable
// question is answered (Missing) on facts, the case's answers as the
// server holds them at that moment (after the earlier ops of the batch).
func (f *Framework) CheckStatusChange(role Role, assigned bool, inspectionID string, inspectionStatus InspectionStatus, c Case, facts Facts, to CaseStatus, reason string) error {
	if err := CheckWritable(inspectionID, inspectionStatus, "", ""); err != nil {
		return err
	}
	if err := CheckCaseTransition(role, assigned, c.Status, to, reason); err != nil {
		return fmt.Errorf("case %s: %w", c.Ref, err)
	}
	if to == CaseSubmitted {
		if missing := f.Missing(facts); len(missing) > 0 {
			return MissingError(c.Ref, missing)
		}
	}
	return nil
}
