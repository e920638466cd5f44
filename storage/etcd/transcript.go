package etcd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

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
	if err := validateChange(c); err != nil {
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
		if !applyChange(&m, c, found) {
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
	slices.SortStableFunc(out, func(a, b storage.TranscriptMessage) int { return compareTS(a.TS, b.TS) })
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

// The rest of this file is storage's fold of message changes
// (storage/transcript.go), which that package does not export. Both
// backends must fold alike; the conformance suite holds them to it.

func validateChange(c storage.MessageChange) error {
	if c.TS == "" {
		return errors.New("storage: a message change needs the message's ts")
	}
	switch c.Op {
	case storage.MessagePosted, storage.MessageDeleted:
	case storage.MessageEdited:
		if c.EditTS == "" {
			return errors.New("storage: an edit needs its edited ts")
		}
	default:
		return fmt.Errorf("storage: unknown message change %v", c.Op)
	}
	return nil
}

// applyChange folds c into m, which is the stored message when found,
// and reports whether m changed.
func applyChange(m *storage.TranscriptMessage, c storage.MessageChange, found bool) bool {
	changed := !found
	if !found {
		*m = storage.TranscriptMessage{TS: c.TS, PostedAt: tsTime(c.TS)}
	}
	if m.User == "" && c.User != "" {
		m.User, changed = c.User, true
	}
	if m.ThreadTS == "" && c.ThreadTS != "" {
		m.ThreadTS, changed = c.ThreadTS, true
	}
	switch c.Op {
	case storage.MessagePosted:
		// A posted message never overwrites what edits already said.
		if m.Text == "" && len(m.Edits) == 0 && c.Text != "" {
			m.Text, changed = c.Text, true
		}
	case storage.MessageEdited:
		if applyEdit(m, c, found) {
			changed = true
		}
	case storage.MessageDeleted:
		// Slack sends the text the message had when it was deleted: its
		// last word, whatever edits are still on their way.
		if c.Previous != "" && m.Text != c.Previous {
			m.Text, changed = c.Previous, true
		}
		if !m.Deleted {
			m.Deleted, m.DeletedAt, changed = true, c.At.UTC(), true
		}
	}
	return changed
}

// applyEdit records an edit once, in edited.ts order, and reports whether
// it was new. Only the latest edit decides the current text, and none
// does once a deletion has said what the last text was.
func applyEdit(m *storage.TranscriptMessage, c storage.MessageChange, found bool) bool {
	i, dup := slices.BinarySearchFunc(m.Edits, c.EditTS, func(e storage.TranscriptEdit, ts string) int {
		return compareTS(e.TS, ts)
	})
	if dup {
		return false
	}
	prev := c.Previous
	if prev == "" && found && i == len(m.Edits) {
		prev = m.Text
	}
	m.Edits = slices.Insert(m.Edits, i, storage.TranscriptEdit{TS: c.EditTS, At: c.At.UTC(), Before: prev, After: c.Text})
	if i == len(m.Edits)-1 && !m.Deleted {
		m.Text = c.Text
	}
	return true
}

// compareTS orders Slack timestamps ("1531420618.000200") numerically.
func compareTS(a, b string) int {
	as, af, _ := strings.Cut(a, ".")
	bs, bf, _ := strings.Cut(b, ".")
	if len(as) != len(bs) {
		return len(as) - len(bs)
	}
	if c := strings.Compare(as, bs); c != 0 {
		return c
	}
	// Fractions compare as decimals: pad the shorter with zeros.
	for len(af) < len(bf) {
		af += "0"
	}
	for len(bf) < len(af) {
		bf += "0"
	}
	return strings.Compare(af, bf)
}

// tsTime reads the time a Slack ts stands for; zero when it is not one.
func tsTime(ts string) time.Time {
	secs, frac, _ := strings.Cut(ts, ".")
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}
	}
	var us int64
	if frac != "" {
		frac = (frac + "000000")[:6]
		if us, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}
		}
	}
	return time.Unix(sec, us*1000).UTC()
}
