package framework

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

//go:embed builtin/*.json
var builtinFiles embed.FS

// Builtin returns the frameworks embedded in the binary, with the raw file
// each was loaded from, sorted by id and version. A framework in use is
// never changed: a change is a new file with the next version beside it.
func Builtin() ([]*Framework, [][]byte, error) {
	names, err := fs.Glob(builtinFiles, "builtin/*.json")
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(names)
	var fws []*Framework
	var raws [][]byte
	for _, name := range names {
		data, err := builtinFiles.ReadFile(name)
		if err != nil {
			return nil, nil, fmt.Errorf("read built-in framework %s: %w", name, err)
		}
		f, err := Load(data)
		if err != nil {
			return nil, nil, fmt.Errorf("built-in framework %s: %w", name, err)
		}
		fws = append(fws, f)
		raws = append(raws, data)
	}
	idx := make([]int, len(fws))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		fa, fb := fws[idx[a]], fws[idx[b]]
		return fa.ID < fb.ID || fa.ID == fb.ID && fa.Version < fb.Version
	})
	sortedF, sortedR := make([]*Framework, len(fws)), make([][]byte, len(fws))
	for i, j := range idx {
		sortedF[i], sortedR[i] = fws[j], raws[j]
	}
	return sortedF, sortedR, nil
}

// BuiltinByID returns the latest version of the built-in framework with
// the given id and its raw file (a NotFound error if there is none):
// callers name the framework they mean rather than relying on the files'
// order.
func BuiltinByID(id string) (*Framework, []byte, error) {
	return BuiltinVersion(id, 0)
}

// BuiltinVersion returns one version of a built-in framework (0: the
// latest) and its raw file.
func BuiltinVersion(id string, version int) (*Framework, []byte, error) {
	fws, raws, err := Builtin()
	if err != nil {
		return nil, nil, err
	}
	found := -1
	for i, f := range fws {
		if f.ID == id && (version == 0 || f.Version == version) {
			found = i // sorted by version: the last is the latest
		}
	}
	if found < 0 {
		if version != 0 {
			return nil, nil, Errorf(CodeNotFound, "no built-in framework %q version %d", id, version)
		}
		return nil, nil, Errorf(CodeNotFound, "no built-in framework %q", id)
	}
	return fws[found], raws[found], nil
}
