package storage_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// The behaviour of SLO states is proved by the conformance suite
// (storetest); what stays here is how bbolt lays them out.

func TestSLOStateIsReadableJSON(t *testing.T) {
	db := storagetest.Open(t)
	st := slo.State{SLO: "search/availability", Service: "search", Level: slo.LevelNoData, Since: t0, EvaluatedAt: t0}
	require.NoError(t, db.SaveSLOState(t.Context(), st))
	var raw []byte
	require.NoError(t, db.Bolt().View(func(tx *bbolt.Tx) error {
		raw = append(raw, tx.Bucket([]byte("slo")).Get([]byte("search/availability"))...)
		return nil
	}))
	var fields map[string]any
	require.NoError(t, json.Unmarshal(raw, &fields))
	assert.Equal(t, map[string]any{
		"slo": "search/availability", "service": "search", "level": "no_data",
		"since": "2025-03-14T09:26:00Z", "frozen": false, "budget_remaining": nil,
		"evaluated_at": "2025-03-14T09:26:00Z",
	}, fields, "zero times are left out; an unknown budget is null")
}
