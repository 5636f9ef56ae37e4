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
// each was loaded from, sorted by id.
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
	return fws, raws, nil
}

// BuiltinByID returns the built-in framework with the given id and its
// raw file (a NotFound error if there is none): callers name the framework
// they mean rather than relying on the files' order.
func BuiltinByID(id string) (*Framework, []byte, error) {
	fws, raws, err := Builtin()
	if err != nil {
		return nil, nil, err
	}
	for i, f := range fws {
		if f.ID == id {
			return f, raws[i], nil
		}
	}
	return nil, nil, Errorf(CodeNotFound, "no built-in framework %q", id)
}
