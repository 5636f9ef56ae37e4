package client

import (
	"context"
	"fmt"
	"io"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// DatasetQuery selects a case-level dataset export: one inspection or
// several to pool, with or without the evidence notes.
type DatasetQuery struct {
	InspectionID  string
	InspectionIDs []string
	Notes         bool
}

// DatasetStream is an export being received: Header first, then Next
// case by case, a message at a time, so the client never holds more
// than one message of cases.
type DatasetStream struct {
	Header framework.DatasetHeader
	stream fieldworkv1.ReportService_ExportDatasetClient
	queue  []*fieldworkv1.DatasetCase
}

// ExportDataset opens a dataset export and reads its header. The export
// is not bounded by CallTimeout (it may take long on a slow link); ctx
// ends it.
func (c *Client) ExportDataset(ctx context.Context, q DatasetQuery) (*DatasetStream, error) {
	device, err := c.deviceID(ctx)
	if err != nil {
		return nil, err
	}
	stream, err := c.reports.ExportDataset(ctx, &fieldworkv1.ExportDatasetRequest{InspectionId: q.InspectionID,
		InspectionIds: q.InspectionIDs, Notes: q.Notes, DeviceId: device})
	if err != nil {
		return nil, rpcerr.FromStatus(err)
	}
	first, err := stream.Recv()
	if err != nil {
		return nil, rpcerr.FromStatus(err)
	}
	if first.GetHeader() == nil {
		return nil, fmt.Errorf("export dataset: the server sent no header")
	}
	return &DatasetStream{Header: wire.DatasetHeaderFromProto(first.GetHeader()), stream: stream, queue: first.GetCases()}, nil
}

// Next returns the next case, or io.EOF after the last.
func (s *DatasetStream) Next() (framework.DatasetCase, error) {
	for len(s.queue) == 0 {
		resp, err := s.stream.Recv()
		if err == io.EOF {
			return framework.DatasetCase{}, io.EOF
		}
		if err != nil {
			return framework.DatasetCase{}, rpcerr.FromStatus(err)
		}
		s.queue = resp.GetCases()
	}
	m := s.queue[0]
	s.queue[0] = nil // let the message's cases go as they are written
	s.queue = s.queue[1:]
	return wire.DatasetCaseFromProto(m), nil
}
