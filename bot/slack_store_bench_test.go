package bot

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/etcd/etcdtest"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// noteStore is what the Slack handler needs of a store, which both
// backends are.
type noteStore interface {
	incident.Store
	Transcript
}

// BenchmarkNoteAckByStore sends signed `/incident note INC-1 …` slash
// commands to the HTTP handler on a loopback server from 1, 16 and 64
// concurrent clients, each answered only once its note is committed, on
// each backend in the same run: the embedded bbolt file (fsync per
// commit) and etcd as a real three-member cluster of etcd processes on
// loopback (a commit is a raft round trip and an fsync on a majority). It
// reports throughput (cmds/s) and ack latency, p50 and p99, in ms, timed
// from signing to the end of the answer. Figures are reported, never
// asserted. Without an etcd binary the etcd sub-benchmarks are skipped.
func BenchmarkNoteAckByStore(b *testing.B) {
	backends := []struct {
		name string
		// open returns a store for one sub-benchmark run; a backend that
		// needs a server starts it once, in start.
		start func(b *testing.B) func(b *testing.B) noteStore
	}{
		{"bbolt", func(*testing.B) func(*testing.B) noteStore {
			return func(b *testing.B) noteStore { return storagetest.Open(b) }
		}},
		{"etcd3", func(b *testing.B) func(*testing.B) noteStore {
			cluster := etcdtest.StartCluster(b, 3)
			return func(b *testing.B) noteStore { return etcdtest.Open(b, cluster.Endpoints(), nil) }
		}},
	}
	for _, be := range backends {
		b.Run("store="+be.name, func(b *testing.B) {
			open := be.start(b)
			for _, conc := range []int{1, 16, 64} {
				b.Run("conc="+strconv.Itoa(conc), func(b *testing.B) {
					benchNoteAck(b, open(b), conc)
				})
			}
		})
	}
}

// benchNoteAck runs b.N signed notes on INC-1 of st through the Slack
// handler from conc clients and reports what loadSlack measured. It
// checks that every note was recorded, so an answer that refused the
// command is not counted as an acknowledgement.
func benchNoteAck(b *testing.B, st noteStore, conc int) {
	const channel = "C0INCIDENT1"
	h, err := NewSlackHandler(SlackConfig{
		SigningSecret: slackTestSecret,
		Dispatcher:    &command.Dispatcher{Store: st},
		Store:         st,
		Transcript:    st,
		BotUserID:     slackTestBot,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(h.Close)
	mux := http.NewServeMux()
	h.Register(mux)
	n := declareWithChannel(b, st, "Checkout down", channel)

	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = slackForm(b, "slash_command.form", map[string]string{
			"text":       fmt.Sprintf("note %s step %d of the rollback", incident.ID(n), i),
			"channel_id": channel, "trigger_id": "bench-" + strconv.Itoa(i), "user_id": "U0ALICE",
		})
	}
	before := lastSeq(b, st, n)
	b.ResetTimer()
	res := loadSlack(b, mux, "/slack/commands", bodies, conc)
	b.StopTimer()
	if got := lastSeq(b, st, n) - before; got != uint64(b.N) {
		b.Fatalf("%d of %d notes recorded: some commands were answered without being recorded", got, b.N)
	}
	b.ReportMetric(res.rate, "cmds/s")
	b.ReportMetric(res.p50, "p50-ms")
	b.ReportMetric(res.p99, "p99-ms")
}

// declareWithChannel opens an incident whose channel is channel, as the
// executor would have left it, and returns its number.
func declareWithChannel(b *testing.B, st incident.Store, title, channel string) uint64 {
	b.Helper()
	ctx := b.Context()
	m := incident.Meta{At: time.Now().UTC(), Actor: "U0ALICE", Source: timeline.SourceCommand, Key: "bench:declare:" + title}
	res, err := st.Declare(ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: title, Severity: 2}, m)
	})
	if err != nil {
		b.Fatal(err)
	}
	n := res.Incident.Number
	m.Key, m.Actor, m.Source = "bench:channel:"+channel, incident.Bot, timeline.SourceSystem
	if _, err := st.Apply(ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) {
		return inc.ChannelCreated(channel, m)
	}); err != nil {
		b.Fatal(err)
	}
	return n
}

// lastSeq is the sequence of incident n's last event.
func lastSeq(b *testing.B, st incident.Store, n uint64) uint64 {
	b.Helper()
	inc, err := st.Incident(b.Context(), n)
	if err != nil {
		b.Fatal(err)
	}
	return inc.LastSeq
}
