package etcd

import (
	"fmt"
	"strconv"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// keys names the keys of one prefix; doc.go describes the layout.
type keys struct{ p string }

func (k keys) schema() string  { return k.p + "meta/schema" }
func (k keys) counter() string { return k.p + "meta/next_incident" }

func (k keys) incidents() string          { return k.p + "incidents/" }
func (k keys) incident(n uint64) string   { return k.incidents() + num(n) }
func (k keys) allEvents() string          { return k.p + "events/" }
func (k keys) events(n uint64) string     { return k.allEvents() + num(n) + "/" }
func (k keys) event(n, seq uint64) string { return k.events(n) + num(seq) }
func (k keys) channels() string           { return k.p + "channels/" }
func (k keys) channel(id string) string   { return k.channels() + id }
func (k keys) dedupes() string            { return k.p + "dedupe/" }
func (k keys) dedupe(key string) string   { return k.dedupes() + key }
func (k keys) outbox() string             { return k.p + "outbox/" }
func (k keys) effects() string            { return k.p + "effects/" }
func (k keys) effect(key string) string   { return k.effects() + key }
func (k keys) transcripts() string        { return k.p + "transcript/" }
func (k keys) transcript(n uint64) string { return k.transcripts() + num(n) + "/" }
func (k keys) slos() string               { return k.p + "slo/" }
func (k keys) slo(id string) string       { return k.slos() + id }

// message is the key of one transcript message.
func (k keys) message(n uint64, ts string) string { return k.transcript(n) + ts }

// outboxEntry is the key of effect i of the transaction that batch names.
// The name only has to be unique; order comes from the key's create
// revision and i (see outboxSeq).
func (k keys) outboxEntry(batch string, i int) string {
	return fmt.Sprintf("%s%s/%03d", k.outbox(), batch, i)
}

// commandBatch names the outbox entries of the command whose first event
// is incident n's seq: unique, since sequences are never reused.
func commandBatch(n, firstSeq uint64) string { return num(n) + "-" + num(firstSeq) }

// num is a number as a key component: 20 digits hold any uint64, and
// zero-padding makes byte order numeric order.
func num(n uint64) string { return fmt.Sprintf("%020d", n) }

// parseNum reads a number component back.
func parseNum(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) }

// prefixEnd is the end of the range of keys starting with prefix.
func prefixEnd(prefix string) string { return clientv3.GetPrefixRangeEnd(prefix) }

// lastComponent is what follows the last slash of key.
func lastComponent(key string) string { return key[strings.LastIndex(key, "/")+1:] }

// Outbox sequences pack an entry's create revision and its index within
// the transaction that created it: commit order, then queue order.
const indexBits = 8

func outboxSeq(createRev int64, index int) uint64 {
	return uint64(createRev)<<indexBits | uint64(index)
}

func splitOutboxSeq(seq uint64) (createRev int64, index int) {
	return int64(seq >> indexBits), int(seq & (1<<indexBits - 1))
}
