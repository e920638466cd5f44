package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/ooda-sre/ooda/incident"
)

// MessageOp is what happened to a message in an incident channel.
type MessageOp int

// The changes the transcript records.
const (
	MessagePosted  MessageOp = iota + 1 // a new message
	MessageEdited                       // its text was edited
	MessageDeleted                      // it was deleted
)

// String names the change, for logs and errors.
func (op MessageOp) String() string {
	switch op {
	case MessagePosted:
		return "posted"
	case MessageEdited:
		return "edited"
	case MessageDeleted:
		return "deleted"
	}
	return "MessageOp(" + strconv.Itoa(int(op)) + ")"
}

// MessageChange is one thing that happened to a message in an incident
// channel, as Slack's Events API reports it. Slack does not promise to
// deliver changes in order, nor only once; RecordMessage copes with both.
type MessageChange struct {
	Op MessageOp
	// TS is the message's Slack ts, which names it within its channel.
	TS       string
	User     string
	ThreadTS string // the parent's ts, for a reply in a thread
	// Text is the message's text; for an edit, the text after it.
	Text string
	// EditTS is Slack's edited.ts, which names an edit; edits only.
	EditTS string
	// Previous is the text before an edit or a deletion, when Slack sent
	// it. It stands in for the message when its own event never arrived.
	Previous string
	// At is when the change happened.
	At time.Time
}

// TranscriptMessage is a human message in an incident channel as the
// transcript keeps it: its text now, every edit it went through, and
// whether it was deleted. Deleted messages keep their text, because what
// people read during an incident is part of what happened.
type TranscriptMessage struct {
	TS        string           `json:"ts"`
	User      string           `json:"user,omitempty"`
	ThreadTS  string           `json:"thread_ts,omitempty"`
	PostedAt  time.Time        `json:"posted_at,omitzero"`
	Text      string           `json:"text"`
	Edits     []TranscriptEdit `json:"edits,omitempty"` // oldest first
	Deleted   bool             `json:"deleted,omitempty"`
	DeletedAt time.Time        `json:"deleted_at,omitzero"`
}

// TranscriptEdit is one edit of a message: the text it replaced and the
// text it left.
type TranscriptEdit struct {
	TS     string    `json:"ts"` // Slack's edited.ts
	At     time.Time `json:"at,omitzero"`
	Before string    `json:"before"`
	After  string    `json:"after"`
}

// RecordMessage applies a change to the transcript of incident n and
// reports whether it changed anything. It is idempotent and tolerates
// reordering: a change is identified by Slack's own names (the message ts,
// the edit's edited.ts), so a redelivered change records nothing, an edit
// that arrives before its message creates the message from what the edit
// says, and an older edit arriving late goes into the history without
// replacing the newer text.
//
// Concurrent calls share one transaction (bbolt's Batch), which is what
// lets a busy channel be ingested at the rate Slack delivers it.
func (db *DB) RecordMessage(ctx context.Context, n uint64, c MessageChange) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := c.Validate(); err != nil {
		return false, err
	}
	var changed bool
	err := db.write("record message", func(t txn) error {
		// Assigned on every run: a batch may run this closure twice.
		changed = false
		if t.incidents.Get(itob(n)) == nil {
			return refusal{incident.NotFound(n)}
		}
		tb, err := t.tx.CreateBucketIfNotExists(bucketTranscript)
		if err != nil {
			return err
		}
		b, err := tb.CreateBucketIfNotExists(itob(n))
		if err != nil {
			return err
		}
		var m TranscriptMessage
		found := false
		if v := b.Get([]byte(c.TS)); v != nil {
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("%s transcript %s: %w", incident.ID(n), c.TS, err)
			}
			found = true
		}
		if changed = m.Apply(c, found); !changed {
			return nil
		}
		t.touch(n)
		return putJSON(b, []byte(c.TS), m)
	})
	return changed, err
}

// Validate checks the change's shape: a ts, a known op, an edit's own ts.
// Every backend checks it before storing the change.
func (c MessageChange) Validate() error {
	if c.TS == "" {
		return errors.New("storage: a message change needs the message's ts")
	}
	switch c.Op {
	case MessagePosted, MessageDeleted:
	case MessageEdited:
		if c.EditTS == "" {
			return errors.New("storage: an edit needs its edited ts")
		}
	default:
		return fmt.Errorf("storage: unknown message change %v", c.Op)
	}
	return nil
}

// Apply folds c into m, which is the stored message when found, and
// reports whether m changed. It is every backend's one fold of message
// changes: idempotent, and indifferent to the order edits arrive in.
func (m *TranscriptMessage) Apply(c MessageChange, found bool) bool {
	changed := !found
	if !found {
		*m = TranscriptMessage{TS: c.TS, PostedAt: tsTime(c.TS)}
	}
	if m.User == "" && c.User != "" {
		m.User, changed = c.User, true
	}
	if m.ThreadTS == "" && c.ThreadTS != "" {
		m.ThreadTS, changed = c.ThreadTS, true
	}
	switch c.Op {
	case MessagePosted:
		// A posted message never overwrites what edits already said.
		if m.Text == "" && len(m.Edits) == 0 && c.Text != "" {
			m.Text, changed = c.Text, true
		}
	case MessageEdited:
		if m.edit(c, found) {
			changed = true
		}
	case MessageDeleted:
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

// edit records an edit once, in edited.ts order, and reports whether it
// was new. Only the latest edit decides the current text, and none does
// once a deletion has said what the last text was.
func (m *TranscriptMessage) edit(c MessageChange, found bool) bool {
	i, dup := slices.BinarySearchFunc(m.Edits, c.EditTS, func(e TranscriptEdit, ts string) int {
		return CompareTS(e.TS, ts)
	})
	if dup {
		return false
	}
	prev := c.Previous
	if prev == "" && found && i == len(m.Edits) {
		prev = m.Text
	}
	m.Edits = slices.Insert(m.Edits, i, TranscriptEdit{TS: c.EditTS, At: c.At.UTC(), Before: prev, After: c.Text})
	if i == len(m.Edits)-1 && !m.Deleted {
		m.Text = c.Text
	}
	return true
}

// Transcript returns incident n's channel messages in the order they were
// posted (thread replies among them, by their own ts).
func (db *DB) Transcript(ctx context.Context, n uint64) ([]TranscriptMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []TranscriptMessage
	err := db.read("read transcript", func(t txn) error {
		out = nil
		if t.incidents.Get(itob(n)) == nil {
			return refusal{incident.NotFound(n)}
		}
		b := transcriptBucket(t.tx, n)
		if b == nil {
			return nil
		}
		var msgs []TranscriptMessage
		err := b.ForEach(func(k, v []byte) error {
			var m TranscriptMessage
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("%s transcript %s: %w", incident.ID(n), k, err)
			}
			msgs = append(msgs, m)
			return nil
		})
		// Keys are ts strings, whose byte order is their numeric order
		// only while they have the same length; sorting does not rely on
		// that.
		slices.SortStableFunc(msgs, func(a, b TranscriptMessage) int { return CompareTS(a.TS, b.TS) })
		out = msgs
		return err
	})
	return out, err
}

// TranscriptMessageAt returns the message with ts from incident n's
// transcript; ok is false when the transcript does not have it.
func (db *DB) TranscriptMessageAt(ctx context.Context, n uint64, ts string) (m TranscriptMessage, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return TranscriptMessage{}, false, err
	}
	err = db.read("read transcript message", func(t txn) error {
		b := transcriptBucket(t.tx, n)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(ts))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &m)
	})
	return m, ok, err
}

func transcriptBucket(tx *bbolt.Tx, n uint64) *bbolt.Bucket {
	tb := tx.Bucket(bucketTranscript)
	if tb == nil {
		return nil
	}
	return tb.Bucket(itob(n))
}

// CompareTS orders Slack timestamps ("1531420618.000200") numerically.
func CompareTS(a, b string) int {
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
	s, err := strconv.ParseInt(secs, 10, 64)
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
	return time.Unix(s, us*1000).UTC()
}
