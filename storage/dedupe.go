package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ExpireDedupe forgets the idempotency keys first seen before before and
// returns how many it dropped. A cron job calls it: Slack stops retrying
// a request within minutes, so a key only needs to outlive the retries
// and replays it guards against, and the bucket would otherwise grow with
// every command ever run.
func (db *DB) ExpireDedupe(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var dropped int
	err := db.write("expire idempotency keys", func(t txn) error {
		dropped = 0
		// Keys are collected first: deleting under a live cursor makes
		// bbolt skip the element after each deletion.
		var expired [][]byte
		err := t.dedupe.ForEach(func(k, v []byte) error {
			var d dedupeRecord
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("dedupe key %q: %w", k, err)
			}
			if d.FirstSeen.Before(before) {
				expired = append(expired, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range expired {
			if err := t.dedupe.Delete(k); err != nil {
				return err
			}
		}
		dropped = len(expired)
		return nil
	})
	return dropped, err
}
