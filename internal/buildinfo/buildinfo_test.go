package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFormat(t *testing.T) {
	set := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, c := range []struct {
		version  string
		settings []debug.BuildSetting
		want     string
	}{
		{"v0.3.0", set("vcs.revision", "1a2b3c4d5e6f", "vcs.modified", "false"), "fieldwork v0.3.0 (rev 1a2b3c4)"},
		{"(devel)", set("vcs.revision", "1a2b3c4d5e6f", "vcs.modified", "true"), "fieldwork (devel) rev 1a2b3c4+dirty"},
		{"", nil, "fieldwork (devel) rev unknown"},
		{"v0.0.0-20261201161101-b4b6822b4d45+dirty", set("vcs.revision", "b4b6822b4d45", "vcs.modified", "true"), "fieldwork (devel) rev b4b6822+dirty"},
		{"v0.3.0+dirty", set("vcs.revision", "b4b6822b4d45", "vcs.modified", "true"), "fieldwork v0.3.0 (rev b4b6822+dirty)"},
		{"v0.3.1-0.20261201160000-1a2b3c4d5e6f", set("vcs.revision", "1a2b3c4"), "fieldwork v0.3.1-0.20261201160000-1a2b3c4d5e6f (rev 1a2b3c4)"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Version: c.version}, Settings: c.settings}
		if got := format("fieldwork", bi); got != c.want {
			t.Errorf("format(%q, %v) = %q, want %q", c.version, c.settings, got, c.want)
		}
	}
}
