// Package wire maps fieldwork's domain values to their fieldworkv1
// messages and back. Both directions of every mapping live here, one file
// per proto file, so that one round-trip test (wire_test.go) covers every
// message: a field added to a domain type or a message but left out of one
// direction fails that test instead of arriving empty at the other end.
//
// The server and the client call these functions and map nothing by hand.
package wire

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// Timestamp is the wire form of t: nil for the zero time, which proto3
// cannot tell from "not set".
func Timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
