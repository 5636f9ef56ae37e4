package client

import (
	"context"

	"github.com/fieldworkhq/fieldwork/internal/localstore"
)

// PurgeNotice says an inspection was purged on the server and dropped
// from this laptop (docs/retention.md).
type PurgeNotice = localstore.PurgeNotice

// PurgeNotices returns the purges this laptop applied and has not told of
// yet, once each.
func (o *Offline) PurgeNotices(ctx context.Context) ([]PurgeNotice, error) {
	return o.local.PurgeNotices(ctx)
}
