package buildinfo

import "fmt"

// Protocol is the compatibility number this build speaks: what a client
// sends on every call (ProtocolKey) and what a server compares with the
// oldest it serves. It is a number kept by hand, not parsed from the
// module version, because development builds have no version to parse
// ("(devel)") and two builds of one release are always compatible. Raise
// it when a client of the previous number would be served wrongly, and
// record the release in docs/releases.md.
const Protocol = 1

// ProtocolKey is the gRPC metadata key carrying the client's Protocol.
// A call without it comes from a client of protocol 0: v0.3.0 or earlier.
const ProtocolKey = "fieldwork-protocol"

// releases names the first release of each protocol (docs/releases.md).
var releases = []string{
	0: "v0.3.0",
	1: "v0.4.0",
}

// Release is the release that introduced protocol p, for messages a person
// reads ("fieldwork v0.4.0 or later"); a number outside the table is named
// by its protocol alone.
func Release(p int) string {
	if p >= 0 && p < len(releases) {
		return releases[p]
	}
	return fmt.Sprintf("protocol %d", p)
}

// ProtocolLine is the second line of --version: the protocol this build
// speaks and the release that introduced it.
func ProtocolLine() string {
	return fmt.Sprintf("protocol %d (as in fieldwork %s)", Protocol, Release(Protocol))
}
