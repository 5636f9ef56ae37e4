package framework

// MarkingPair is one question of a double-marked case with both markings
// submitted: what the agreement figures are computed from. Values are the
// canonical answer strings: yes, no, na or a number.
type MarkingPair struct {
	CaseRef, QuestionID  string
	FirstMarker, First   string // the case's inspector and the first marking's value
	SecondMarker, Second string // the QA marker and the second marking's value
}
