package framework

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"
)

// SampleMethod names the one way fieldwork draws a case sample (the
// internal/sampling package, docs/sampling.md): PCG-DXSM seeded with the
// seed, strata in sorted order, largest-remainder allocation, a partial
// Fisher–Yates draw, round-robin allocation to the inspectors. A changed
// algorithm gets a new name, so that a kept seed still says how to draw
// the same sample again.
const SampleMethod = "fieldwork-sample/1"

// Size rules of a sample.
const (
	SizeFixed      = "fixed"      // --size N
	SizeConfidence = "confidence" // --confidence C --margin E, with the finite-population correction
)

// MaxSampleInspectors bounds the inspectors a sample is allocated to.
const MaxSampleInspectors = 500

// SampleInfo is how a case sample was drawn by fieldwork sample: written
// beside the sample's cases.csv and kept with the inspection the cases are
// imported into, so that the draw can be checked and repeated.
type SampleInfo struct {
	Method   string `json:"method"`
	Seed     uint64 `json:"seed"`
	SizeRule string `json:"size_rule"`
	// Confidence (percent) and Margin (percentage points) are the
	// confidence rule's; Requested is the fixed rule's --size.
	Confidence int     `json:"confidence,omitempty"`
	Margin     float64 `json:"margin,omitempty"`
	Requested  int     `json:"requested,omitempty"`
	// Population is the eligible caseload (N: the rows in the window);
	// Size the cases drawn (n).
	Population int      `json:"population"`
	Size       int      `json:"size"`
	Strata     []string `json:"strata"`
	// From and To are the start_date window (YYYY-MM-DD, inclusive); ""
	// leaves that side open.
	From        string   `json:"from,omitempty"`
	To          string   `json:"to,omitempty"`
	Inspectors  []string `json:"inspectors"`
	FrameworkID string   `json:"framework"`
	// CaseloadSHA256 is the SHA-256 of the caseload file as read;
	// SampleSHA256 that of the cases.csv written, which an import checks.
	CaseloadSHA256 string `json:"caseload_sha256"`
	SampleSHA256   string `json:"sample_sha256"`

	// Set by the server when the sample is imported.
	ImportedAt time.Time `json:"-"`
	ImportedBy string    `json:"-"`
	DeviceID   string    `json:"-"`
}

// SizeRuleText says how the size was chosen, in words.
func (s SampleInfo) SizeRuleText() string {
	if s.SizeRule == SizeConfidence {
		return fmt.Sprintf("%d%% confidence, ±%s points, finite-population correction: n = %d of N = %d",
			s.Confidence, trimFloat(s.Margin), s.Size, s.Population)
	}
	return fmt.Sprintf("fixed size %d: n = %d of N = %d", s.Requested, s.Size, s.Population)
}

func trimFloat(f float64) string { return strings.TrimSuffix(fmt.Sprintf("%g", f), ".0") }

// SampleSHA256 is the checksum SampleInfo keeps of a file.
func SampleSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// CheckSampleInfo checks a sample's description before it is kept, and
// that it describes this cases.csv (csv, the file imported with it): a
// sidecar left beside another file would otherwise be kept as the method
// of cases it never drew.
func CheckSampleInfo(s SampleInfo, csv []byte) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if s.Method != SampleMethod {
		add("method %q is not %s", clipText(s.Method), SampleMethod)
	}
	switch s.SizeRule {
	case SizeConfidence:
		if s.Confidence < 1 || s.Confidence > 99 {
			add("confidence %d is not between 1 and 99", s.Confidence)
		}
		if !(s.Margin > 0 && s.Margin <= 50) || math.IsNaN(s.Margin) {
			add("margin %v is not above 0 and at most 50 points", s.Margin)
		}
	case SizeFixed:
		if s.Requested < 1 {
			add("requested size %d is below 1", s.Requested)
		}
	default:
		add("size rule %q is not %s or %s", clipText(s.SizeRule), SizeFixed, SizeConfidence)
	}
	if s.Population < 1 || s.Size < 1 || s.Size > s.Population {
		add("size %d of population %d: want 1 ≤ size ≤ population", s.Size, s.Population)
	}
	if len(s.Strata) > MaxAttributes {
		add("%d strata, over the limit of %d", len(s.Strata), MaxAttributes)
	}
	for _, a := range s.Strata {
		if err := FieldAttributeName.CheckAs("stratum", a); err != nil {
			add("%v", err)
		}
	}
	if len(s.Inspectors) > MaxSampleInspectors {
		add("%d inspectors, over the limit of %d", len(s.Inspectors), MaxSampleInspectors)
	}
	for _, u := range s.Inspectors {
		if err := FieldUserName.CheckAs("inspector", u); err != nil {
			add("%v", err)
		}
	}
	for _, d := range [][2]string{{"from", s.From}, {"to", s.To}} {
		if _, err := time.Parse(time.DateOnly, d[1]); d[1] != "" && err != nil {
			add("%s %q is not a date (YYYY-MM-DD)", d[0], clipText(d[1]))
		}
	}
	if err := FieldFrameworkID.CheckAs("framework", s.FrameworkID); err != nil {
		add("%v", err)
	}
	for _, h := range [][2]string{{"caseload_sha256", s.CaseloadSHA256}, {"sample_sha256", s.SampleSHA256}} {
		if b, err := hex.DecodeString(h[1]); err != nil || len(b) != sha256.Size || strings.ToLower(h[1]) != h[1] {
			add("%s %q is not a SHA-256 in lower-case hex", h[0], clipText(h[1]))
		}
	}
	if len(problems) == 0 && SampleSHA256(csv) != s.SampleSHA256 {
		add("it describes another file: sample_sha256 %s, but the cases.csv imported has %s", s.SampleSHA256, SampleSHA256(csv))
	}
	if len(problems) > 0 {
		return Errorf(CodeInvalid, "sample info: %s", strings.Join(problems, "; "))
	}
	return nil
}

func clipText(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}
