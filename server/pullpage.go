package server

import (
	"google.golang.org/protobuf/proto"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// DefaultPullPageBytes bounds the encoded size of one pull page. It is
// under gRPC's default receive limit of 4 MiB, so any gRPC client (grpcurl
// included, not only ours, which takes 64 MiB) can pull, and with the text
// limits (framework/limits.go) one entity is at most a few tens of KiB, so
// a page always holds many.
const DefaultPullPageBytes = 3 << 20

// checkRequest applies the limits every request shares: the device a
// write is attributed to (framework.FieldDeviceID). Each request's own
// text fields are checked where they are used.
func checkRequest(req any) error {
	if r, ok := req.(interface{ GetDeviceId() string }); ok {
		return framework.FieldDeviceID.Check(r.GetDeviceId())
	}
	return nil
}

// fitPage fills resp with changes, in order, until the next would take the
// page past budget bytes, always taking the first so that the cursor
// advances. When it stops early it sets the cursor to just before the
// first change left out and More: every change before that one is in the
// page (the store gives each entity once, at its first change, with its
// current state), so the next page starts with it.
func fitPage(resp *fieldworkv1.PullResponse, changes []framework.Change, budget int) {
	size := proto.Size(resp)
	for i, c := range changes {
		m := wire.ChangeToProto(c)
		n := proto.Size(m)
		n += protoLenOverhead(n)
		if i > 0 && size+n > budget {
			resp.Cursor, resp.More = c.Seq-1, true
			return
		}
		size += n
		resp.Changes = append(resp.Changes, m)
	}
}

// protoLenOverhead is what a length-delimited field of n bytes adds to its
// message: a one-byte tag and the varint length.
func protoLenOverhead(n int) int {
	o := 2
	for n >= 1<<7 {
		n >>= 7
		o++
	}
	return o
}
