package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/buildinfo"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
)

// MinClientProtocol is the oldest client protocol (buildinfo.Protocol) this
// server serves. Protocol 1 (v0.4.0) is the first that drops a purged
// inspection from the laptop, with its unsynced edits (docs/retention.md):
// a v0.3.0 client (protocol 0, which sends no version) would keep a purged
// inspection's notes, and its refused edits, for ever, so it is refused
// with "update fieldwork" instead (docs/releases.md).
const MinClientProtocol = 1

// ServesLine is what fieldworkd --version says of the clients it serves.
func ServesLine() string {
	return fmt.Sprintf("serves fieldwork clients of protocol %d (%s) or later", MinClientProtocol, buildinfo.Release(MinClientProtocol))
}

// checkClientVersion refuses a call to fieldwork's own API from a client
// older than MinClientProtocol (rpcerr.ClientTooOld). Health and
// reflection (grpcurl, load balancers) are not fieldwork clients and are
// not asked. A protocol that is not a number is refused as invalid.
func checkClientVersion(ctx context.Context, method string) error {
	if !strings.HasPrefix(method, "/fieldwork.") {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	got := 0 // v0.3.0 and earlier send no version
	if vals := md.Get(buildinfo.ProtocolKey); len(vals) > 0 {
		n, err := strconv.Atoi(vals[0])
		if err != nil || n < 0 {
			return status.Errorf(codes.InvalidArgument, "%s metadata must be a protocol number, got %q", buildinfo.ProtocolKey, vals[0])
		}
		got = n
	}
	if got >= MinClientProtocol {
		return nil
	}
	return rpcerr.ClientTooOld(MinClientProtocol, buildinfo.Release(MinClientProtocol), got, buildinfo.Release(got))
}

// versionUnary and versionStream run checkClientVersion after the caller
// is authenticated (a refused token is said first: logging in again
// comes before updating), before the handler.
func versionUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := checkClientVersion(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func versionStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := checkClientVersion(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}
