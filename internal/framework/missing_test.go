package framework

import (
	"fmt"
	"strings"
	"testing"
)

// The refusal of an incomplete submission lists every missing question:
// the inspector works through the list (walk's g QID), so none is cut off.
func TestMissingError_ListsEveryQuestion(t *testing.T) {
	var ids []string
	for i := range 65 {
		ids = append(ids, fmt.Sprintf("9.%d", i))
	}
	msg := MissingError("C-01", ids).Error()
	if !strings.Contains(msg, "65 applicable question(s) unanswered: 9.0, 9.1,") || !strings.HasSuffix(msg, "9.63, 9.64") || strings.Contains(msg, "more") {
		t.Errorf("MissingError = %q; want all 65 ids", msg)
	}
	if ErrorCode(MissingError("C-01", ids)) != CodePrecondition {
		t.Error("MissingError is not a precondition error")
	}
}
