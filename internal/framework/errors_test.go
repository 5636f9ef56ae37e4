package framework

import (
	"os"
	"regexp"
	"testing"
)

// Codes lists every code declared in errors.go, so that the tables tested
// against it (rpcerr, the live view) cannot miss a new one.
func TestCodes_ListsEveryDeclaredCode(t *testing.T) {
	src, err := os.ReadFile("errors.go")
	if err != nil {
		t.Fatal(err)
	}
	declared := regexp.MustCompile(`(?m)^\t(Code\w+)\s+Code = "`).FindAllSubmatch(src, -1)
	listed := map[Code]bool{}
	for _, c := range Codes() {
		listed[c] = true
	}
	if len(declared) == 0 || len(declared) != len(listed) {
		t.Errorf("errors.go declares %d codes, Codes lists %d", len(declared), len(listed))
	}
}
