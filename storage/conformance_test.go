package storage_test

import (
	"testing"
	"time"

	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/storage/storetest"
)

// TestConformance holds the bbolt file to the suite every backend runs.
// Each store is a new file in a temporary directory, opened through
// storagetest, whose cleanup closes it and checks the file: bbolt's
// tx.Check and storage's record check.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T, now func() time.Time) storage.Store {
			return storagetest.Open(t, storage.Options{Now: now})
		},
		Reopen: func(t *testing.T, s storage.Store, now func() time.Time) storage.Store {
			return storagetest.Reopen(t, s.(*storage.DB), storage.Options{Now: now})
		},
	})
}
