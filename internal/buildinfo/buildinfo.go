// Package buildinfo says which build of a binary is running, from the
// module version and VCS revision the Go toolchain records in it
// (runtime/debug.ReadBuildInfo), so a support call can name the exact
// build without a version string kept by hand.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Line is the one version line both binaries print for --version:
// "fieldwork v0.3.0 (rev 1a2b3c4)", "fieldwork (devel) rev 1a2b3c4+dirty".
func Line(program string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return program + " (devel) rev unknown"
	}
	return format(program, bi)
}

func format(program string, bi *debug.BuildInfo) string {
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) > 7 {
		rev = rev[:7]
	}
	if rev == "" {
		rev = "unknown" // built outside a checkout, or with -buildvcs=false
	}
	if dirty {
		rev += "+dirty"
	}
	// Go stamps a pseudo-version from the checkout: v0.0.0-DATE-HASH when
	// no tag precedes the commit (a development build: said so), and a
	// "+dirty" suffix the revision already carries.
	v := strings.TrimSuffix(bi.Main.Version, "+dirty")
	if v == "" || v == "(devel)" || strings.HasPrefix(v, "v0.0.0-") {
		return program + " (devel) rev " + rev
	}
	return program + " " + v + " (rev " + rev + ")"
}
