package framework

// The case-level dataset: what an analyst's export of one or several
// inspections holds, case by case (internal/dataset writes it).

// DatasetHeader describes an export of the case-level dataset.
type DatasetHeader struct {
	FrameworkID      string
	FrameworkVersion int
	// InspectionIDs are the exported inspections in order; Units the unit
	// label each one's cases carry (as in pooled reports).
	InspectionIDs []string
	Units         []string
	// Cases is how many cases the inspections held when the export began.
	Cases int
	// AsOfSeq is the change sequence when the export began.
	AsOfSeq int64
	// Notes says the answers carry their evidence notes.
	Notes bool
}

// DatasetCase is one case of the dataset with its current answers.
type DatasetCase struct {
	InspectionID string
	Unit         string
	Ref          string
	Status       CaseStatus
	Attributes   map[string]string
	Answers      []DatasetAnswer
}

// DatasetAnswer is one current answer of a dataset case; Note is empty
// unless the export asked for notes.
type DatasetAnswer struct {
	QuestionID string
	Value      string
	Note       string
}
