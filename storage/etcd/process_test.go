package etcd_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/etcd/etcdtest"
	"github.com/ooda-sre/ooda/storage/storetest"
)

// A child process learns from its environment that it is one, which one,
// and where the store is.
const (
	envChild     = "OODA_ETCD_TEST_CHILD"
	envEndpoints = "OODA_ETCD_TEST_ENDPOINTS"
	envPrefix    = "OODA_ETCD_TEST_PREFIX"
	resultPrefix = "etcd-test result: "
)

// Each child declares declarations incidents and applies notes commands
// to the incidents the parent declared, from goroutines goroutines.
const (
	processes    = 3
	declarations = 5
	shared       = 3 // incidents the parent declares for the children
	notes        = 24
	goroutines   = 4
)

// outcome is what a child reports of one command.
type outcome struct {
	Key       string   `json:"key"`
	Incident  uint64   `json:"incident"`
	Seqs      []uint64 `json:"seqs"`
	Duplicate bool     `json:"duplicate"`
	Err       string   `json:"err,omitempty"`
}

// TestWritersInSeveralProcesses runs writers in three processes (this
// test binary, run again) against one etcd: numbers are unique, every
// incident's sequences contiguous, and each idempotency key, used by all
// three processes at once, records once.
func TestWritersInSeveralProcesses(t *testing.T) {
	if id := os.Getenv(envChild); id != "" {
		runChild(t, id)
		return
	}
	endpoints := etcdtest.Start(t)
	prefix := etcdtest.NewPrefix()
	s := etcdtest.OpenPrefix(t, endpoints, prefix, nil)
	for i := range shared {
		declare(t, s, fmt.Sprintf("parent-%d", i), "shared")
	}

	var wg sync.WaitGroup
	outputs := make([][]byte, processes)
	for p := range processes {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWritersInSeveralProcesses$", "-test.count=1", "-test.timeout=5m")
		cmd.Env = append(os.Environ(),
			envChild+"="+fmt.Sprint(p),
			envEndpoints+"="+strings.Join(endpoints, ","),
			envPrefix+"="+prefix)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		wg.Go(func() {
			out, err := cmd.Output()
			outputs[p] = out
			assertNoError(t, err)
			if err != nil {
				t.Logf("child %d: %s", p, stderr.String())
			}
		})
	}
	wg.Wait()
	require.False(t, t.Failed(), "every child succeeded")

	numbers := map[uint64]string{}
	byKey := map[string][]outcome{}
	for p, out := range outputs {
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), resultPrefix)
			if !ok {
				continue
			}
			var o outcome
			require.NoError(t, json.Unmarshal([]byte(line), &o))
			require.Empty(t, o.Err, "child %d, key %s", p, o.Key)
			byKey[o.Key] = append(byKey[o.Key], o)
			if strings.HasPrefix(o.Key, "declare-") {
				other, dup := numbers[o.Incident]
				require.False(t, dup, "%s declared by %s and by %s", incident.ID(o.Incident), other, o.Key)
				numbers[o.Incident] = o.Key
			}
		}
	}
	require.Len(t, numbers, processes*declarations, "every declaration reported")
	for n := uint64(shared + 1); n <= shared+processes*declarations; n++ {
		require.Contains(t, numbers, n, "numbers run without gaps")
	}
	require.Len(t, byKey, processes*declarations+notes, "every command reported")
	for key, got := range byKey {
		if strings.HasPrefix(key, "declare-") {
			continue
		}
		require.Len(t, got, processes, "key %s tried by every process", key)
		fresh := 0
		for _, o := range got {
			if !o.Duplicate {
				fresh++
			}
			require.Equal(t, got[0].Seqs, o.Seqs, "key %s: every process got the original events", key)
		}
		require.Equal(t, 1, fresh, "key %s recorded once", key)
	}

	storetest.RequireConsistent(t, s)
	keys := map[string]int{}
	for n := uint64(1); n <= shared; n++ {
		for _, e := range requireContiguous(t, s, n) {
			if strings.HasPrefix(e.Key, "note-") {
				keys[e.Key]++
			}
		}
	}
	require.Len(t, keys, notes)
	for k, c := range keys {
		require.Equal(t, 1, c, "key %s has one event", k)
	}
}

// runChild is a child's share of the work: its own declarations, and every
// note, which the other children send too.
func runChild(t *testing.T, id string) {
	endpoints := strings.Split(os.Getenv(envEndpoints), ",")
	s := etcdtest.OpenPrefix(t, endpoints, os.Getenv(envPrefix), nil)
	var mu sync.Mutex
	report := func(o outcome) {
		b, err := json.Marshal(o)
		require.NoError(t, err)
		mu.Lock()
		defer mu.Unlock()
		fmt.Println(resultPrefix + string(b))
	}
	seqs := func(res incident.Result) []uint64 {
		var out []uint64
		for _, e := range res.Events {
			out = append(out, e.Seq)
		}
		return out
	}
	work := make(chan func(), declarations+notes)
	for i := range declarations {
		key := fmt.Sprintf("declare-%s-%d", id, i)
		work <- func() {
			res, err := s.Declare(context.Background(), key, declareDecider(key, key))
			report(outcome{Key: key, Incident: res.Incident.Number, Seqs: seqs(res), Duplicate: res.Duplicate, Err: errString(err)})
		}
	}
	for i := range notes {
		key := fmt.Sprintf("note-%d", i)
		n := uint64(i%shared + 1)
		work <- func() {
			res, err := s.Apply(context.Background(), n, key, observe(key, key))
			report(outcome{Key: key, Incident: n, Seqs: seqs(res), Duplicate: res.Duplicate, Err: errString(err)})
		}
	}
	close(work)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for w := range work {
				w()
			}
		})
	}
	wg.Wait()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
