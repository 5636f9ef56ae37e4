package framework_test

import (
	"encoding/json"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Kept counts are stored by question position (store/packed.go) in every
// server database: a build that listed a framework's questions in another
// order would read every stored count as another question's, with no
// error. So the position is the file's own order, walked here from the
// JSON without the package: standard by standard, each key question then
// its prompts, then the standard's supplementary questions; the
// framework-wide supplementary questions last. Changing it needs a
// migration that repacks breakdown_counts.
func TestPosition_IsTheFileOrder(t *testing.T) {
	type q struct {
		ID      string `json:"id"`
		Prompts []q    `json:"prompts"`
	}
	type file struct {
		Domains []struct {
			Standards []struct {
				KeyQuestions  []q `json:"key_questions"`
				Supplementary []q `json:"supplementary"`
			} `json:"standards"`
		} `json:"domains"`
		Supplementary []q `json:"supplementary"`
	}
	fws, raws, err := framework.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for i, fw := range fws {
		var f file
		if err := json.Unmarshal(raws[i], &f); err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, d := range f.Domains {
			for _, s := range d.Standards {
				for _, k := range s.KeyQuestions {
					order = append(order, k.ID)
					for _, p := range k.Prompts {
						order = append(order, p.ID)
					}
				}
				for _, s := range s.Supplementary {
					order = append(order, s.ID)
				}
			}
		}
		for _, s := range f.Supplementary {
			order = append(order, s.ID)
		}
		if len(order) != len(fw.Questions()) {
			t.Fatalf("%s: %d questions in the file, %d in Questions()", fw.ID, len(order), len(fw.Questions()))
		}
		for pos, id := range order {
			if got, ok := fw.Position(id); !ok || got != pos || fw.Questions()[pos].ID != id {
				t.Errorf("%s: question %s at position %d of the file; Position = %d, %v", fw.ID, id, pos, got, ok)
			}
		}
		if _, ok := fw.Position("no such question"); ok {
			t.Errorf("%s: a question it lacks has a position", fw.ID)
		}
	}
}
