package report

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Name bounds: file and zip-entry stems (".csv" is added), and Excel's
// sheet-name limit.
const (
	maxFileName  = 100
	maxSheetName = 31
)

// safeNames turns table names, which carry framework attribute names (the
// breakdowns' key_questions_by_<attribute>), into names that are safe as
// file names, zip entries and sheet names, and distinct: only
// [A-Za-z0-9._-] (anything else becomes _, so no /, \, .., :, [ ] * ?, quote
// or control character survives), no leading dot or dash, at most max
// bytes, never empty, and no two alike when case is ignored (macOS and
// Windows folders and Excel's sheet names ignore case), nor like one of
// taken. A later name that would repeat an earlier one gets -2, -3, …
// within the bound, so no table is dropped or overwritten. Names that are
// already safe and distinct are kept as they are.
func safeNames(raw []string, max int, taken ...string) []string {
	seen := map[string]bool{}
	for _, t := range taken {
		seen[strings.ToLower(t)] = true
	}
	out := make([]string, len(raw))
	for i, r := range raw {
		var sb strings.Builder
		for j, c := range r { // one _ for each other character, however many bytes
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' ||
				(c == '.' || c == '-') && j > 0
			if !ok {
				c = '_'
			}
			sb.WriteRune(c)
		}
		base := sb.String()
		if len(base) > max {
			base = base[:max]
		}
		if base == "" {
			base = "_"
		}
		name := base
		for n := 2; seen[strings.ToLower(name)]; n++ {
			suffix := "-" + strconv.Itoa(n)
			name = base[:min(len(base), max-len(suffix))] + suffix
		}
		seen[strings.ToLower(name)] = true
		out[i] = name
	}
	return out
}

// openFolder opens the export folder dir, creating it 0700 when missing.
// A symlink there is refused, never followed: an export of personal data
// lands in the folder asked for or nowhere.
func openFolder(dir string) (*os.Root, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s is a symbolic link: give the real folder", dir)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	// The folder checked is the folder opened (not swapped in between).
	if opened, err := root.Stat("."); err != nil || !os.SameFile(fi, opened) {
		root.Close()
		return nil, fmt.Errorf("%s changed while it was being opened", dir)
	}
	return root, nil
}

// writeIn writes the file name (a plain name, no folder) in root whole or
// not at all: into a new temporary file (created exclusively, 0600) that is
// then renamed over name. A symlink at name is refused; rename replaces a
// name, never writes through it.
func writeIn(root *os.Root, name string, write func(io.Writer) error) error {
	if fi, err := root.Lstat(name); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link: remove it or choose another name", filepath.Join(root.Name(), name))
	} else if err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s exists and is not a file", filepath.Join(root.Name(), name))
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := ".fieldwork-export-" + hex.EncodeToString(rnd[:]) + ".tmp"
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		root.Remove(tmp)
	}
	return err
}

// WriteFile writes the export file path (XLSX, HTML, a CSV zip) by write,
// whole or not at all, 0600, never through a symlink at path (writeIn).
// Its folder must exist.
func WriteFile(path string, write func(io.Writer) error) error {
	dir, name := filepath.Split(path)
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("%q names a folder, not a file", path)
	}
	if dir == "" {
		dir = "."
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return writeIn(root, name, write)
}

// WriteInFolder writes the file name (a plain name) into the folder dir,
// created 0700 when missing, as the CSV annexe writes its files: a symlink
// as the folder or the file is refused, and the file is written whole or
// not at all, 0600 (writeIn). The dataset export writes its files here.
func WriteInFolder(dir, name string, write func(io.Writer) error) error {
	root, err := openFolder(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := writeIn(root, name, write); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
