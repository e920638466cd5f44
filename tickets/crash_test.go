package tickets_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/tickets/trackertest"
)

// envCrashURL passes the parent's fake tracker to the child process.
const envCrashURL = "OODA_TICKETS_CRASH_TRACKER_URL_"

// TestCreateSurvivesSIGKILL: a process creates the ticket and is killed
// with SIGKILL before it completes the effect; the restarted process finds
// the ticket by its key and records it. One ticket, for each tracker.
func TestCreateSurvivesSIGKILL(t *testing.T) {
	for _, ac := range adapterCases() {
		t.Run(ac.name, func(t *testing.T) {
			env := envCrashURL + strings.ToUpper(strings.ReplaceAll(ac.name, "-", "_"))
			url := os.Getenv(env)
			path := filepath.Join(t.TempDir(), "ooda.db")
			var fake trackertest.Fake
			if url == "" { // the parent: everything up to StartProcess runs in the child too
				fake = ac.fake()
				t.Cleanup(fake.Close)
				url = fake.URL()
				t.Setenv(env, url)
				db, err := storage.Open(path, storage.Options{})
				require.NoError(t, err)
				r := ac.rig(t, url, nil, db)
				n := r.declare("Checkout fails for EU cards", "search", false)
				r.addItem(n, "Alert on card declines", alice)
				require.NoError(t, db.Close())
			}

			child := storagetest.StartProcess(t, path, func(db *storage.DB, ack func(string)) {
				r := ac.rig(t, url, nil, db)
				pe := r.pending(incident.EffectCreateTicket)
				if _, err := r.svc.Perform(r.ctx, pe); err != nil {
					panic(err)
				}
				ack("created " + pe.Effect.Key)
				storagetest.Idle() // killed here: the effect is not completed
			})
			require.True(t, strings.HasPrefix(child.Ack(), "created "))
			child.Kill()
			require.Len(t, fake.Tickets(), 1, "the child created the ticket")

			db := storagetest.OpenPath(t, path)
			r := ac.rig(t, url, nil, db)
			require.NoError(t, r.attempt(r.pending(incident.EffectCreateTicket)))
			require.Len(t, fake.Tickets(), 1, "one ticket after the restart")
			require.Equal(t, 1, fake.Calls(trackertest.EndpointCreate))
			a := r.item(1, 1)
			require.Equal(t, incident.TicketOpen, a.Ticket.State)
			require.Equal(t, fake.Tickets()[0].ID, a.Ticket.ID)
			require.Equal(t, []string{"ticket_created open"}, r.ticketEvents(1))
		})
	}
}
