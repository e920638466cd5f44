package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// Top-level buckets. doc.go describes what each holds.
var (
	bucketMeta       = []byte("meta")
	bucketIncidents  = []byte("incidents")
	bucketEvents     = []byte("events")
	bucketChannels   = []byte("channels")
	bucketDedupe     = []byte("dedupe")
	bucketOutbox     = []byte("outbox")
	bucketEffects    = []byte("effects")
	bucketTranscript = []byte("transcript")
	bucketSLO        = []byte("slo")
)

// Keys in the meta bucket.
var (
	keySchema       = []byte("schema")
	keyNextIncident = []byte("next_incident")
)

// migration upgrades the schema by one version: migrations()[v] takes a
// file at version v to v+1. A step runs inside the one transaction that
// also records the new version, so a crash leaves the file at a version it
// fully reached.
type migration func(tx *bbolt.Tx) error

// migrations lists every step from an empty file to the current schema.
// Steps are only ever appended: a released step is history that files in
// the field have gone through.
func migrations() []migration {
	return []migration{
		createV1,
		binaryEventsV2,
	}
}

// binaryEventsV2 marks the move to binary event records (eventcodec.go).
// Nothing is rewritten: JSON records stay readable. The step exists so a
// file written by this version carries schema 2, and an older binary,
// which could not read the new records, refuses it (ErrSchemaTooNew)
// instead of failing on every incident's timeline.
func binaryEventsV2(*bbolt.Tx) error { return nil }

// createV1 creates every bucket and starts incident numbers at 1.
func createV1(tx *bbolt.Tx) error {
	for _, name := range [][]byte{
		bucketMeta, bucketIncidents, bucketEvents, bucketChannels, bucketDedupe,
		bucketOutbox, bucketEffects, bucketTranscript, bucketSLO,
	} {
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keyNextIncident, itob(1))
}

// requiredBuckets are the buckets every operation assumes exist; a file
// missing one was damaged or edited by hand.
var requiredBuckets = [][]byte{
	bucketMeta, bucketIncidents, bucketEvents, bucketChannels, bucketDedupe, bucketOutbox, bucketEffects,
}

// errNotOurs marks a bbolt file that some other program wrote.
var errNotOurs = errors.New("a bbolt file without Ooda's meta bucket")

// schemaVersion reads the file's schema version; an empty file is version 0.
func schemaVersion(tx *bbolt.Tx) (uint64, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bbolt.Bucket) error {
			empty = false
			return errStop
		})
		if !empty {
			return 0, errNotOurs
		}
		return 0, nil
	}
	v := meta.Get(keySchema)
	if len(v) != 8 {
		return 0, errors.New("meta/schema is missing or malformed")
	}
	return btoi(v), nil
}

// errStop ends a ForEach early.
var errStop = errors.New("stop")

// migrate brings the file to len(steps), running the steps it has not yet
// run. Open has already refused a file newer than steps.
func migrate(tx *bbolt.Tx, steps []migration) error {
	v, err := schemaVersion(tx)
	if err != nil {
		return err
	}
	for ; v < uint64(len(steps)); v++ {
		if err := steps[v](tx); err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
		if err := tx.Bucket(bucketMeta).Put(keySchema, itob(v+1)); err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
	}
	return nil
}

// checkBuckets reports the first required bucket the file lacks.
func checkBuckets(tx *bbolt.Tx) error {
	for _, name := range requiredBuckets {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("bucket %s is missing", name)
		}
	}
	if v := tx.Bucket(bucketMeta).Get(keyNextIncident); len(v) != 8 {
		return errors.New("meta/next_incident is missing or malformed")
	}
	return nil
}

// itob encodes a number as a big-endian key, so byte order is numeric
// order and cursors walk incidents, events and the outbox in sequence.
func itob(v uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v)
}

func btoi(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
