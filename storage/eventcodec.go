package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ooda-sre/ooda/timeline"
)

// Events are the one record Ooda reads by the thousand (a long incident's
// timeline, its post-mortem), so they are stored in a compact binary form
// rather than JSON, which spent most of a 10,000-event load validating and
// unquoting. The layout, after a version byte:
//
//	uvarint seq · varint unix nanoseconds · kind · phase · actor · text ·
//	source · key · uvarint attribute count · (name · value)…
//
// where each string is a uvarint length and its bytes, and attributes are
// in name order so the same event always encodes the same way. A value
// starting with '{' is an event written as JSON, which decodeEvent still
// reads.
const eventCodecV1 = 0x01

var errEventRecord = errors.New("malformed event record")

// encodeEvent is the stored form of e.
func encodeEvent(e timeline.Event) []byte {
	size := 1 + 2*binary.MaxVarintLen64 + binary.MaxVarintLen64
	strs := [...]string{string(e.Kind), string(e.Phase), e.Actor, e.Text, string(e.Source), e.Key}
	for _, s := range strs {
		size += binary.MaxVarintLen64 + len(s)
	}
	names := make([]string, 0, len(e.Attrs))
	for k, v := range e.Attrs {
		names = append(names, k)
		size += 2*binary.MaxVarintLen64 + len(k) + len(v)
	}
	slices.Sort(names)

	b := make([]byte, 0, size)
	b = append(b, eventCodecV1)
	b = binary.AppendUvarint(b, e.Seq)
	b = binary.AppendVarint(b, e.At.UnixNano())
	for _, s := range strs {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, k := range names {
		b = appendString(appendString(b, k), e.Attrs[k])
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// decodeEvent reads a stored event. The value belongs to bbolt and is only
// valid in its transaction: it is copied once, into one string, and every
// field is a slice of that string.
func decodeEvent(v []byte) (timeline.Event, error) {
	var e timeline.Event
	if len(v) > 0 && v[0] == '{' {
		err := json.Unmarshal(v, &e)
		return e, err
	}
	if len(v) == 0 || v[0] != eventCodecV1 {
		return e, fmt.Errorf("%w: unknown encoding", errEventRecord)
	}
	d := eventDecoder{s: string(v[1:])}
	e.Seq = d.uvarint()
	e.At = time.Unix(0, d.varint()).UTC()
	e.Kind = timeline.Kind(d.str())
	e.Phase = timeline.Phase(d.str())
	e.Actor = d.str()
	e.Text = d.str()
	e.Source = timeline.Source(d.str())
	e.Key = d.str()
	if n := d.uvarint(); n > 0 && d.err == nil {
		if n > uint64(len(d.s)) {
			return e, fmt.Errorf("%w: %d attributes in %d bytes", errEventRecord, n, len(d.s))
		}
		e.Attrs = make(map[string]string, n)
		for range n {
			k := d.str()
			e.Attrs[k] = d.str()
		}
	}
	if d.err == nil && d.s != "" {
		d.err = fmt.Errorf("%w: %d bytes left over", errEventRecord, len(d.s))
	}
	return e, d.err
}

// eventDecoder reads the fields of an encoded event off the front of s,
// remembering the first error.
type eventDecoder struct {
	s   string
	err error
}

func (d *eventDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint([]byte(d.s[:min(len(d.s), binary.MaxVarintLen64)]))
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad number", errEventRecord)
		return 0
	}
	d.s = d.s[n:]
	return x
}

// varint undoes the zig-zag encoding binary.AppendVarint applies on top
// of a uvarint.
func (d *eventDecoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *eventDecoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)) {
		d.err = fmt.Errorf("%w: a %d-byte string in %d bytes", errEventRecord, n, len(d.s))
		return ""
	}
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}
