package bot

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/ooda-sre/ooda/bot/directory"
	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/timeline"
)

// benchWorkspace is how many people the directory of the name benchmarks
// holds: a large company's workspace.
const benchWorkspace = 10000

// BenchmarkSlackCommandNamesPerson sends signed `/incident role ops <person>`
// slash commands to the HTTP handler on a loopback server, one client at a
// time, each committed durably (fsync) before it is answered, handing Ops
// back and forth between two people named by member ID (as Slack escapes a
// person picked from the @ list) or by display name (@user5000), which the
// dispatcher resolves through a directory of 10,000 people held in memory,
// as app wires it.
// It reports throughput (req/s) and ack latency, p50 and p99, of each, so
// the two can be compared in one run. Figures are reported, never
// asserted.
func BenchmarkSlackCommandNamesPerson(b *testing.B) {
	for _, by := range []string{"member-id", "name"} {
		b.Run("by="+by, func(b *testing.B) {
			var dir *directory.Directory
			r := newSlackRig(b, func(c *SlackConfig) {
				var err error
				if dir, err = directory.New(directory.Config{Store: c.Store.(directory.Store)}); err != nil {
					b.Fatal(err)
				}
				c.Dispatcher.People = dir
			})
			ps := make([]people.Person, benchWorkspace)
			for i := range ps {
				ps[i] = people.Person{ID: fmt.Sprintf("U%08d", i), Handle: "user" + strconv.Itoa(i), RealName: "User " + strconv.Itoa(i), DisplayName: "user" + strconv.Itoa(i)}
			}
			if err := r.db.SavePeople(b.Context(), ps); err != nil {
				b.Fatal(err)
			}
			if err := dir.Load(b.Context()); err != nil {
				b.Fatal(err)
			}
			n := r.declare("Checkout down", "C0INCIDENT1")
			named := func(i int) string {
				if by == "name" {
					return "@user" + strconv.Itoa(5000+i%2)
				}
				return fmt.Sprintf("<@U%08d|user%d>", 5000+i%2, 5000+i%2)
			}
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = slackForm(b, "slash_command.form", map[string]string{
					"text": "role ops " + named(i), "channel_id": "C0INCIDENT1",
					"trigger_id": "bench-" + strconv.Itoa(i), "user_id": "U0ALICE",
				})
			}
			b.ResetTimer()
			res := loadSlack(b, r.mux, "/slack/commands", bodies, 1)
			b.StopTimer()
			inc, err := r.db.Incident(b.Context(), n)
			if err != nil {
				b.Fatal(err)
			}
			// Every command was a handover: none was refused.
			if got := len(r.events(n, timeline.KindRoleAssigned)); got != b.N+1 || inc.Roles.Ops != fmt.Sprintf("U%08d", 5000+(b.N-1)%2) {
				b.Fatalf("%d role assignments for %d commands, Ops is %q", got-1, b.N, inc.Roles.Ops)
			}
			b.ReportMetric(res.rate, "req/s")
			b.ReportMetric(res.p50, "p50-ms")
			b.ReportMetric(res.p99, "p99-ms")
		})
	}
}
