package etcd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
)

// RecordMessage applies a change to the transcript of incident n and
// reports whether it changed anything. It is idempotent and tolerates
// reordering, as storage's does: a change is identified by Slack's own
// names (the message ts, the edit's edited.ts), so a redelivered change
// records nothing, an edit that arrives before its message creates the
// message from what the edit says, and an older edit arriving late goes
// into the history without replacing the newer text. Concurrent changes
// of one message, from any replica, are merged by comparing the message's
// revision and folding again when another landed first.
func (s *Store) RecordMessage(ctx context.Context, n uint64, c storage.MessageChange) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := c.Validate(); err != nil {
		return false, err
	}
	changed, err := s.recordMessage(ctx, n, c)
	if err != nil {
		return false, failed("record message", err)
	}
	return changed, nil
}

func (s *Store) recordMessage(ctx context.Context, n uint64, c storage.MessageChange) (bool, error) {
	ikey, mkey := s.keys.incident(n), s.keys.message(n, c.TS)
	var wrote []byte // what an earlier run sent, in case it landed unseen
	for run := 0; ; run++ {
		if run > 0 {
			if err := conflict(ctx, run); err != nil {
				return false, err
			}
		}
		resp, err := s.txn(ctx, "read", true, nil, []clientv3.Op{
			clientv3.OpGet(ikey, clientv3.WithKeysOnly()),
			clientv3.OpGet(mkey),
		}, nil)
		if err != nil {
			return false, err
		}
		if len(resp.Responses[0].GetResponseRange().GetKvs()) == 0 {
			return false, refusal{incident.NotFound(n)}
		}
		var m storage.TranscriptMessage
		var rev int64
		found := false
		if kvs := resp.Responses[1].GetResponseRange().GetKvs(); len(kvs) > 0 {
			if wrote != nil && bytes.Equal(kvs[0].Value, wrote) {
				return true, nil
			}
			if err := json.Unmarshal(kvs[0].Value, &m); err != nil {
				return false, fmt.Errorf("%s transcript %s: %w", incident.ID(n), c.TS, err)
			}
			found, rev = true, kvs[0].ModRevision
		}
		if !m.Apply(c, found) {
			return false, nil
		}
		p := &plan{}
		p.unchanged(mkey, rev)
		if err := p.putJSON(mkey, m); err != nil {
			return false, err
		}
		if err := p.fits("a transcript message"); err != nil {
			return false, err
		}
		wrote = p.ops[0].ValueBytes()
		ok, err := s.commit(ctx, p)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
}

// Transcript returns incident n's channel messages in the order they were
// posted (thread replies among them, by their own ts), read in pages at
// the revision the incident was found at.
func (s *Store) Transcript(ctx context.Context, n uint64) ([]storage.TranscriptMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resp, err := s.get(ctx, s.keys.incident(n), clientv3.WithKeysOnly())
	if err != nil {
		return nil, failed("read transcript", err)
	}
	if len(resp.Kvs) == 0 {
		return nil, incident.NotFound(n)
	}
	var out []storage.TranscriptMessage
	_, err = s.scanPrefix(ctx, s.keys.transcript(n), resp.Header.Revision, func(kv *mvccpb.KeyValue) error {
		var m storage.TranscriptMessage
		if err := json.Unmarshal(kv.Value, &m); err != nil {
			return fmt.Errorf("%s transcript %s: %w", incident.ID(n), lastComponent(string(kv.Key)), err)
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, failed("read transcript", err)
	}
	// Keys are ts strings, whose byte order is their numeric order only
	// while they have the same length.
	slices.SortStableFunc(out, func(a, b storage.TranscriptMessage) int { return storage.CompareTS(a.TS, b.TS) })
	return out, nil
}

// TranscriptMessageAt returns the message with ts from incident n's
// transcript; ok is false when the transcript does not have it.
func (s *Store) TranscriptMessageAt(ctx context.Context, n uint64, ts string) (m storage.TranscriptMessage, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return storage.TranscriptMessage{}, false, err
	}
	resp, err := s.get(ctx, s.keys.message(n, ts))
	if err != nil {
		return storage.TranscriptMessage{}, false, failed("read transcript message", err)
	}
	if len(resp.Kvs) == 0 {
		return storage.TranscriptMessage{}, false, nil
	}
	if err := json.Unmarshal(resp.Kvs[0].Value, &m); err != nil {
		return storage.TranscriptMessage{}, false, failed("read transcript message", err)
	}
	return m, true, nil
}
