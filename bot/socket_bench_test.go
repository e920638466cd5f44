package bot

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// Socket Mode under faults, against the fake Slack of the fault tests.
// Figures are reported, never asserted:
//
//	go test -run '^$' -bench SocketMode -benchtime 20x ./bot

// BenchmarkSocketModeReconnect: from a TCP reset to a command answered on
// the new connection, idle and right after a burst of 1,000 events.
func BenchmarkSocketModeReconnect(b *testing.B) {
	for _, burst := range []int{0, 1000} {
		b.Run(fmt.Sprintf("burst=%d", burst), func(b *testing.B) {
			rig := newSlackRig(b)
			const channel = "C0BENCH0001"
			rig.declare("Checkout is down", channel)
			slack := newSocketSide(b)
			startSocketMode(b, slack.URL(), rig.h)
			seq := 0
			var took []time.Duration
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				link := slack.link(i)
				for range burst {
					seq++
					slack.Send(link, fmt.Sprintf("env-ev-%d", seq), "events_api", messageEvent(b, channel, seq))
				}
				b.StartTimer()
				start := time.Now()
				link.Reset()
				next := slack.link(i + 1)
				id := fmt.Sprintf("env-after-%d", i)
				form := slackForm(b, "slash_command.form", map[string]string{"text": "help", "trigger_id": id})
				slack.Send(next, id, "slash_commands", socketCommandPayload(b, form))
				if _, ok := slack.ack(id, 30*time.Second); !ok {
					b.Fatalf("no answer after reconnect %d", i+1)
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			p50, p99 := percentiles(took)
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkSocketModeCommandAckDuringBurst: how long a slash command
// waits for its acknowledgement while 1,000 events arrive around it.
func BenchmarkSocketModeCommandAckDuringBurst(b *testing.B) {
	rig := newSlackRig(b)
	const channel = "C0BENCH0002"
	rig.declare("Checkout is down", channel)
	slack := newSocketSide(b)
	startSocketMode(b, slack.URL(), rig.h)
	link := slack.link(0)
	seq := 0
	var took []time.Duration
	b.ResetTimer()
	for i := range b.N {
		var ids []string
		for e := range 1000 {
			seq++
			slack.Send(link, fmt.Sprintf("env-ev-%d", seq), "events_api", messageEvent(b, channel, seq))
			if e%100 == 50 {
				id := fmt.Sprintf("env-cmd-%d-%d", i, e)
				form := slackForm(b, "slash_command.form", map[string]string{"text": "roles INC-1", "trigger_id": id})
				slack.Send(link, id, "slash_commands", socketCommandPayload(b, form))
				ids = append(ids, id)
			}
		}
		for _, id := range ids {
			if _, ok := slack.ack(id, 30*time.Second); !ok {
				b.Fatalf("%s was not answered", id)
			}
			d, _ := slack.AckLatency(id)
			took = append(took, d)
		}
	}
	b.StopTimer()
	p50, p99 := percentiles(took)
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
}

// percentiles returns the 50th and 99th percentiles of ds.
func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2], s[min(len(s)-1, len(s)*99/100)]
}
