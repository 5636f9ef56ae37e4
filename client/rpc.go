package client

import (
	"context"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// One method per server call the CLI and the form make. Each takes Go
// values, returns domain values, and turns a gRPC status into the
// framework error with the same code and the server's message, so callers
// test framework.ErrorCode and print the message as it is.

// CallTimeout bounds one call to the server made on a user's behalf (the
// CLI's commands, the form's Submit), so a hung network fails the command
// instead of hanging it. A sync is not bounded by it: it commits as it goes
// and may take long on a slow link.
const CallTimeout = 60 * time.Second

// Me is the user a token belongs to.
type Me struct {
	Name  string
	Admin bool
}

// WhoAmI asks the server whose token the client sends.
func (c *Client) WhoAmI(ctx context.Context) (Me, error) {
	resp, err := c.admin.WhoAmI(ctx, &fieldworkv1.WhoAmIRequest{})
	if err != nil {
		return Me{}, rpcerr.FromStatus(err)
	}
	return Me{Name: resp.GetName(), Admin: resp.GetAdmin()}, nil
}

// FrameworkSummary describes a framework version the server holds.
type FrameworkSummary = framework.Summary

// Frameworks lists the server's framework versions.
func (c *Client) Frameworks(ctx context.Context) ([]FrameworkSummary, error) {
	resp, err := c.frameworks.ListFrameworks(ctx, &fieldworkv1.ListFrameworksRequest{})
	if err != nil {
		return nil, rpcerr.FromStatus(err)
	}
	out := make([]FrameworkSummary, len(resp.GetFrameworks()))
	for i, f := range resp.GetFrameworks() {
		out[i] = wire.FrameworkInfoFromProto(f)
	}
	return out, nil
}

// Framework returns a framework from the server (version 0: the latest).
func (c *Client) Framework(ctx context.Context, id string, version int) (*framework.Framework, error) {
	resp, err := c.frameworks.GetFramework(ctx, &fieldworkv1.GetFrameworkRequest{Id: id, Version: int32(version)})
	if err != nil {
		return nil, rpcerr.FromStatus(err)
	}
	return framework.Load(resp.GetDefinition())
}

// CreateInspection creates an inspection of a framework version (0: the
// latest).
func (c *Client) CreateInspection(ctx context.Context, name, unit, frameworkID string, version int) (framework.Inspection, error) {
	resp, err := c.inspections.CreateInspection(ctx, &fieldworkv1.CreateInspectionRequest{Name: name, Unit: unit, FrameworkId: frameworkID, FrameworkVersion: int32(version)})
	if err != nil {
		return framework.Inspection{}, rpcerr.FromStatus(err)
	}
	return wire.InspectionFromProto(resp.GetInspection()), nil
}

// Inspections lists the inspections the user may see, with their role on
// each.
func (c *Client) Inspections(ctx context.Context) ([]framework.Inspection, error) {
	resp, err := c.inspections.ListInspections(ctx, &fieldworkv1.ListInspectionsRequest{})
	if err != nil {
		return nil, rpcerr.FromStatus(err)
	}
	out := make([]framework.Inspection, len(resp.GetInspections()))
	for i, in := range resp.GetInspections() {
		out[i] = wire.InspectionFromProto(in)
	}
	return out, nil
}

// Inspection returns one inspection and, to a role that reads the report,
// how its imported samples were drawn.
func (c *Client) Inspection(ctx context.Context, id string) (framework.Inspection, []framework.SampleInfo, error) {
	resp, err := c.inspections.GetInspection(ctx, &fieldworkv1.GetInspectionRequest{Id: id})
	if err != nil {
		return framework.Inspection{}, nil, rpcerr.FromStatus(err)
	}
	var samples []framework.SampleInfo
	for _, m := range resp.GetSamples() {
		samples = append(samples, wire.SampleInfoFromProto(m))
	}
	return wire.InspectionFromProto(resp.GetInspection()), samples, nil
}

// SetInspectionStatus locks (framework.InspectionLocked) or unlocks
// (InspectionFieldwork) an inspection; reason is audited.
func (c *Client) SetInspectionStatus(ctx context.Context, inspectionID string, status framework.InspectionStatus, reason string) (framework.Inspection, error) {
	device, err := c.deviceID(ctx)
	if err != nil {
		return framework.Inspection{}, err
	}
	resp, err := c.inspections.SetInspectionStatus(ctx, &fieldworkv1.SetInspectionStatusRequest{InspectionId: inspectionID, Status: string(status), Reason: reason, DeviceId: device})
	if err != nil {
		return framework.Inspection{}, rpcerr.FromStatus(err)
	}
	return wire.InspectionFromProto(resp.GetInspection()), nil
}

// setCaseStatus is the bare call; SetCaseStatus syncs around it.
func (c *Client) setCaseStatus(ctx context.Context, inspectionID, caseRef string, status framework.CaseStatus, reason string) (framework.Case, error) {
	device, err := c.deviceID(ctx)
	if err != nil {
		return framework.Case{}, err
	}
	resp, err := c.inspections.SetCaseStatus(ctx, &fieldworkv1.SetCaseStatusRequest{InspectionId: inspectionID, CaseRef: caseRef, Status: string(status), Reason: reason, DeviceId: device})
	if err != nil {
		return framework.Case{}, rpcerr.FromStatus(err)
	}
	return wire.CaseFromProto(resp.GetCase()), nil
}

// RecordJudgement records the lead's rating of a judged standard.
func (c *Client) RecordJudgement(ctx context.Context, inspectionID, standardID, rating, rationale string) (framework.Judgement, error) {
	device, err := c.deviceID(ctx)
	if err != nil {
		return framework.Judgement{}, err
	}
	resp, err := c.inspections.RecordJudgement(ctx, &fieldworkv1.RecordJudgementRequest{InspectionId: inspectionID, StandardId: standardID, Rating: rating, Rationale: rationale, DeviceId: device})
	if err != nil {
		return framework.Judgement{}, rpcerr.FromStatus(err)
	}
	return wire.JudgementFromProto(resp.GetJudgement()), nil
}

// ImportResult counts what an import did: cases Created and Updated,
// answers Applied (stored) and Unchanged, judgements Applied.
type ImportResult struct {
	Created, Updated   int
	Applied, Unchanged int
}

// ImportCases imports a cases.csv file into an inspection, whole or not at
// all.
func (c *Client) ImportCases(ctx context.Context, inspectionID string, csv []byte) (ImportResult, error) {
	return c.ImportSample(ctx, inspectionID, csv, nil)
}

// ImportSample imports a drawn sample's cases.csv and, with it, how it was
// drawn (nil: nothing), kept with the inspection; the server refuses an
// info that does not describe this file.
func (c *Client) ImportSample(ctx context.Context, inspectionID string, csv []byte, info *framework.SampleInfo) (ImportResult, error) {
	device, err := c.deviceID(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	req := &fieldworkv1.ImportCasesRequest{InspectionId: inspectionID, Csv: csv, DeviceId: device}
	if info != nil {
		req.SampleInfo = wire.SampleInfoToProto(*info)
	}
	resp, err := c.inspections.ImportCases(ctx, req)
	if err != nil {
		return ImportResult{}, rpcerr.FromStatus(err)
	}
	return ImportResult{Created: int(resp.GetCreated()), Updated: int(resp.GetUpdated())}, nil
}

// ImportAnswers imports an answers.csv file into an inspection.
func (c *Client) ImportAnswers(ctx context.Context, inspectionID string, csv []byte) (ImportResult, error) {
	device, err := c.deviceID(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	resp, err := c.inspections.ImportAnswers(ctx, &fieldworkv1.ImportAnswersRequest{InspectionId: inspectionID, Csv: csv, DeviceId: device})
	if err != nil {
		return ImportResult{}, rpcerr.FromStatus(err)
	}
	return ImportResult{Applied: int(resp.GetApplied()), Unchanged: int(resp.GetUnchanged())}, nil
}

// ImportJudgements imports a judgements.csv file into an inspection.
func (c *Client) ImportJudgements(ctx context.Context, inspectionID string, csv []byte) (ImportResult, error) {
	device, err := c.deviceID(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	resp, err := c.inspections.ImportJudgements(ctx, &fieldworkv1.ImportJudgementsRequest{InspectionId: inspectionID, Csv: csv, DeviceId: device})
	if err != nil {
		return ImportResult{}, rpcerr.FromStatus(err)
	}
	return ImportResult{Applied: int(resp.GetApplied())}, nil
}

// CreateUser creates a user (an administrator if admin).
func (c *Client) CreateUser(ctx context.Context, name string, admin bool) error {
	_, err := c.admin.CreateUser(ctx, &fieldworkv1.CreateUserRequest{Name: name, Admin: admin})
	return rpcerr.FromStatus(err)
}

// Token is a newly issued bearer token; the server shows it only once.
type Token struct {
	Token, ID string
	ExpiresAt time.Time
}

// IssueToken issues a token for user, valid for ttl.
func (c *Client) IssueToken(ctx context.Context, user string, ttl time.Duration) (Token, error) {
	resp, err := c.admin.IssueToken(ctx, &fieldworkv1.IssueTokenRequest{User: user, TtlSeconds: int64(ttl.Seconds())})
	if err != nil {
		return Token{}, rpcerr.FromStatus(err)
	}
	return Token{Token: resp.GetToken(), ID: resp.GetTokenId(), ExpiresAt: resp.GetExpiresAt().AsTime()}, nil
}

// RevokeToken revokes one token of user (tokenID), or all of them if
// tokenID is "", and returns how many it revoked.
func (c *Client) RevokeToken(ctx context.Context, user, tokenID string) (int, error) {
	resp, err := c.admin.RevokeToken(ctx, &fieldworkv1.RevokeTokenRequest{User: user, TokenId: tokenID})
	if err != nil {
		return 0, rpcerr.FromStatus(err)
	}
	return int(resp.GetRevoked()), nil
}

// AddTeamMember gives user a role on an inspection.
func (c *Client) AddTeamMember(ctx context.Context, inspectionID, user string, role framework.Role) error {
	_, err := c.admin.AddTeamMember(ctx, &fieldworkv1.AddTeamMemberRequest{InspectionId: inspectionID, User: user, Role: string(role)})
	return rpcerr.FromStatus(err)
}

// TeamRemoval is what taking a user off a team did: the role they had, and
// how many cases their devices drop at their next sync.
type TeamRemoval struct {
	Role           framework.Role
	WithdrawnCases int
}

// RemoveTeamMember takes user off an inspection's team.
func (c *Client) RemoveTeamMember(ctx context.Context, inspectionID, user string) (TeamRemoval, error) {
	resp, err := c.admin.RemoveTeamMember(ctx, &fieldworkv1.RemoveTeamMemberRequest{InspectionId: inspectionID, User: user})
	if err != nil {
		return TeamRemoval{}, rpcerr.FromStatus(err)
	}
	return TeamRemoval{Role: framework.Role(resp.GetRole()), WithdrawnCases: int(resp.GetWithdrawnCases())}, nil
}

// AuditQuery selects audit entries: an inspection's, of one case unless
// CaseRef is "", after the sequence number After.
type AuditQuery struct {
	InspectionID, CaseRef string
	After                 int64
}

// AuditEntry is one row of the audit trail.
type AuditEntry = framework.AuditEntry

// Audit returns one page of audit entries and the After of the next page
// (0 after the last).
func (c *Client) Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, int64, error) {
	resp, err := c.audit.ListAudit(ctx, &fieldworkv1.ListAuditRequest{InspectionId: q.InspectionID, CaseRef: q.CaseRef, After: q.After})
	if err != nil {
		return nil, 0, rpcerr.FromStatus(err)
	}
	out := make([]AuditEntry, len(resp.GetEntries()))
	for i, e := range resp.GetEntries() {
		out[i] = wire.AuditEntryFromProto(e)
	}
	return out, resp.GetNext(), nil
}

// ReportQuery names the inspection of a report, or several to pool (of
// one framework version), the case attributes to break every figure down
// by, and whether a pooled report has its per-case sections (completeness
// per case and inspector, answers that no longer apply).
type ReportQuery struct {
	InspectionID  string
	InspectionIDs []string
	By            []string
	CaseProgress  bool
	// Agreement adds the agreement figures (docs/agreement.md), flagged
	// below AgreementBelow when set (else the default).
	Agreement      bool
	AgreementBelow *float64
}

// Report computes a report on the server.
func (c *Client) Report(ctx context.Context, q ReportQuery) (*aggregate.Report, error) {
	req := &fieldworkv1.GetReportRequest{InspectionId: q.InspectionID, InspectionIds: q.InspectionIDs, By: q.By, CaseProgress: q.CaseProgress,
		Agreement: q.Agreement}
	if q.AgreementBelow != nil {
		req.AgreementBelow, req.HasAgreementBelow = *q.AgreementBelow, true
	}
	resp, err := c.reports.GetReport(ctx, req)
	if err != nil {
		return nil, rpcerr.FromStatus(err)
	}
	return wire.ReportFromProto(resp.GetReport()), nil
}

// EvidenceQuery selects the cases behind one figure of an inspection.
type EvidenceQuery struct {
	InspectionID, QuestionID string
	aggregate.EvidenceFilter
}

// Evidence lists the cases behind one figure, among those the caller may
// see, with each case's inspector, value and evidence note.
func (c *Client) Evidence(ctx context.Context, q EvidenceQuery) ([]aggregate.EvidenceRow, error) {
	resp, err := c.reports.ListEvidence(ctx, &fieldworkv1.ListEvidenceRequest{InspectionId: q.InspectionID, QuestionId: q.QuestionID,
		Value: q.Value, Where: q.Where, Grep: q.Grep})
	if err != nil {
		return nil, rpcerr.FromStatus(err)
	}
	rows := make([]aggregate.EvidenceRow, len(resp.GetRows()))
	for i, m := range resp.GetRows() {
		rows[i] = wire.EvidenceRowFromProto(m)
	}
	return rows, nil
}
