package framework

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Written judgements: what the lead writes about an inspection besides the
// ratings — the summary judgement (for an unrated programme the Chief
// Inspector's judgement, for a rated framework the overall summary), per
// standard (or stage) strengths and areas for improvement, and numbered
// recommendations. Each is an item of its own with a revision, written
// online or offline like an answer and decided on sync by the same rules
// (syncer.DecideWritten); this file holds what an item is and who may
// write one.

// WrittenKind is what a written item is.
type WrittenKind string

// Written item kinds.
const (
	WrittenSummary        WrittenKind = "summary"
	WrittenStrength       WrittenKind = "strength"
	WrittenImprovement    WrittenKind = "improvement"
	WrittenRecommendation WrittenKind = "recommendation"
)

// WrittenKinds lists the kinds, in report order.
func WrittenKinds() []WrittenKind {
	return []WrittenKind{WrittenSummary, WrittenStrength, WrittenImprovement, WrittenRecommendation}
}

// SummaryItemID is the id of an inspection's one summary item: fixed, so
// two devices writing the summary offline write the same item (the later
// becomes a conflict, never a second summary). Every other item's id is a
// UUID the device makes, so items added on two devices never collide.
const SummaryItemID = "summary"

// WrittenItem is one written item as it stands.
type WrittenItem struct {
	ID           string
	InspectionID string
	Kind         WrittenKind
	// StandardID is the standard (or stage) a strength or area for
	// improvement is about; "" for the summary and recommendations.
	StandardID string
	Text       string
	// Withdrawn items stay in the history and audit trail, and in no report.
	Withdrawn bool
	Revision  int64
	// Order is the server's order of first creation within the inspection
	// (0: not yet on the server); recommendations are numbered in it.
	Order int64
	// Number is a recommendation's number in reports: its place, from 1,
	// among the inspection's recommendations not withdrawn, in Order.
	Number              int
	CreatedBy           string
	CreatedAt           time.Time
	UpdatedBy, DeviceID string
	UpdatedAt           time.Time
}

// WrittenOp is what an op writes to a written item: the whole item (text
// and whether it is withdrawn), so that a re-sent op is the same write.
type WrittenOp struct {
	ItemID     string
	Kind       WrittenKind
	StandardID string
	Text       string
	Withdrawn  bool
}

// WrittenConflict is a stale edit of a written item whose text differed
// from the server's: the server keeps its text, and both are kept until
// the lead resolves it.
type WrittenConflict struct {
	ID, InspectionID, ItemID     string
	Kind                         WrittenKind
	StandardID                   string
	BaseRevision, ServerRevision int64
	ServerText                   string
	ServerWithdrawn              bool
	ClientText                   string
	ClientWithdrawn              bool
	ClientUser, ClientDevice     string
	CreatedAt                    time.Time
	Status                       string // open or resolved
	ResolvedBy                   string
}

// CheckWrittenWrite decides whether someone with role (EffectiveRole) may
// write an inspection's written items now: nothing in a locked inspection
// (CheckWritable), and only its lead or an administrator (CanLead). The
// server's push and import and the offline store all call it.
func CheckWrittenWrite(role Role, inspectionID string, status InspectionStatus) error {
	if err := CheckWritable(inspectionID, status, "", ""); err != nil {
		return err
	}
	if !CanLead(role) {
		return Errorf(CodePermission, "only the lead inspector of inspection %s records written judgements", inspectionID)
	}
	return nil
}

// checkWrittenFields checks a written op's ids and text, before anything of
// it is stored or repeated (CheckOp).
func checkWrittenFields(w WrittenOp) error {
	switch w.Kind {
	case WrittenSummary:
		if w.ItemID != SummaryItemID {
			return Errorf(CodeInvalid, "written item_id of the summary must be %q", SummaryItemID)
		}
	case WrittenStrength, WrittenImprovement, WrittenRecommendation:
		if err := checkUUID("written item_id", w.ItemID, true); err != nil {
			return err
		}
	default:
		return Errorf(CodeInvalid, "written kind %q is not one of summary, strength, improvement, recommendation", clip(string(w.Kind)))
	}
	if w.StandardID != "" {
		if err := FieldID.CheckAs("written standard_id", w.StandardID); err != nil {
			return err
		}
	}
	return FieldWrittenText.Check(w.Text)
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// CheckWritten checks a written item against the inspection's framework: a
// strength or area for improvement names one of its standards, the summary
// and recommendations none, and the text is not blank. existing is the
// item as it stands (nil if new): an item keeps its kind and standard.
func (f *Framework) CheckWritten(w WrittenOp, existing *WrittenItem) error {
	if err := checkWrittenFields(w); err != nil {
		return err
	}
	switch w.Kind {
	case WrittenStrength, WrittenImprovement:
		if w.StandardID == "" {
			return Errorf(CodeInvalid, "a %s names its standard (--standard)", w.Kind)
		}
		if _, ok := f.Standard(w.StandardID); !ok {
			return Errorf(CodeInvalid, "standard %q is not in framework %s", w.StandardID, f.ID)
		}
	default:
		if w.StandardID != "" {
			return Errorf(CodeInvalid, "a %s is about the whole inspection: it names no standard", w.Kind)
		}
	}
	if strings.TrimSpace(w.Text) == "" {
		return Errorf(CodeInvalid, "%s text is empty", w.Kind)
	}
	if existing != nil && (existing.Kind != w.Kind || existing.StandardID != w.StandardID) {
		return Errorf(CodeInvalid, "written item %s is a %s%s: an item keeps its kind and standard", w.ItemID, existing.Kind, standardOf(existing.StandardID))
	}
	return nil
}

func standardOf(id string) string {
	if id == "" {
		return ""
	}
	return " of standard " + id
}

// OrderWritten is the one order written items are shown in (reports, the
// live view, the CLI): the summary first, then each standard's strengths
// and areas for improvement in framework order, then the recommendations,
// each group in order of first creation (Order; items not yet on the
// server after them, by creation time). Withdrawn items are left out, and
// recommendations are numbered from 1 in that order (Number).
func OrderWritten(f *Framework, items []WrittenItem) []WrittenItem {
	place := map[string]int{}
	for i, s := range f.Standards() {
		place[s.ID] = i
	}
	kind := map[WrittenKind]int{}
	for i, k := range WrittenKinds() {
		kind[k] = i
	}
	group := func(it WrittenItem) (int, int, int) {
		switch it.Kind {
		case WrittenSummary:
			return 0, 0, 0
		case WrittenRecommendation:
			return 2, 0, 0
		}
		return 1, place[it.StandardID], kind[it.Kind]
	}
	var out []WrittenItem
	for _, it := range items {
		if !it.Withdrawn {
			out = append(out, it)
		}
	}
	slices.SortStableFunc(out, func(a, b WrittenItem) int {
		ag, as, ak := group(a)
		bg, bs, bk := group(b)
		return cmp.Or(cmp.Compare(ag, bg), cmp.Compare(as, bs), cmp.Compare(ak, bk),
			cmp.Compare(orderKey(a), orderKey(b)), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	n := 0
	for i := range out {
		out[i].Number = 0
		if out[i].Kind == WrittenRecommendation {
			n++
			out[i].Number = n
		}
	}
	return out
}

// orderKey puts items not yet on the server (Order 0) after those that are.
func orderKey(it WrittenItem) int64 {
	if it.Order == 0 {
		return 1 << 62
	}
	return it.Order
}

// WrittenTitle is how a kind is headed in reports.
func WrittenTitle(k WrittenKind, rated bool) string {
	switch k {
	case WrittenSummary:
		if rated {
			return "Summary judgement"
		}
		return "Chief Inspector's judgement"
	case WrittenStrength:
		return "Strength"
	case WrittenImprovement:
		return "Area for improvement"
	case WrittenRecommendation:
		return "Recommendation"
	}
	return string(k)
}
