package app_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// sharedCommands is run through every transport: the same text must record
// the same events whichever way it arrives.
//
// The declaration is left out: over Slack the declarer is a person and
// becomes Commander; over the API it is a token, which holds no role.
var sharedCommands = []string{
	"role INC-1 comms <@U0BOB000001|bob>",
	"role INC-1 ops <@U0CAROL0001>",
	"observe INC-1 5xx at 38%, p99 4.2s",
	"orient INC-1 --cause pool default of 2 exhausts under load",
	"status INC-1 identified",
	"sev INC-1 1",
	"impact INC-1 38% of checkouts fail",
	"decide INC-1 roll back to v2.30.4",
	"act INC-1 rollback started",
	"update INC-1 Checkout is failing for a third of customers",
	"action INC-1 Make the pool size configurable <@U0CAROL0001> P1",
	"note INC-1 thanks all",
	"role INC-1 comms <@U0DAVE00001>",
	"resolve INC-1 rolled back",
	"reopen INC-1",
}

// comparable strips what differs by transport on purpose: who (a Slack user
// or an API token), how, when, and the request's key.
func comparable(evs []timeline.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = fmt.Sprintf("%s %s %q %v", e.Kind, e.Phase, e.Text, e.Attrs)
	}
	return out
}

func TestSameCommandsSameEventsOverSlackAndAPI(t *testing.T) {
	const declare = "declare sev2 --service checkout Checkout API returning 502s"
	rig := newSlackRig(t)
	slashReply(t, rig.command(declare, "C0OTHER0001", "trigger-declare"))
	for i, text := range sharedCommands {
		reply := slashReply(t, rig.command(text, "C0OTHER0001", fmt.Sprintf("trigger-%d", i)))
		require.NotContains(t, reply.Text, "could not", text)
	}

	// The same over Socket Mode, through the connection app.Run opens.
	sock := newSocketRig(t)
	slashReply(t, sock.command(declare, "C0OTHER0001", "trigger-declare"))
	for i, text := range sharedCommands {
		reply := slashReply(t, sock.command(text, "C0OTHER0001", fmt.Sprintf("trigger-%d", i)))
		require.NotContains(t, reply.Text, "could not", text)
	}

	db := storagetest.Open(t)
	srv := httptest.NewServer(newAPIApp(t, db, "admin-token").Handler())
	defer srv.Close()
	apiCommand(t, srv.URL, "admin-token", declare)
	for _, text := range sharedCommands {
		apiCommand(t, srv.URL, "admin-token", text)
	}

	// Over Slack the declaration is two events (declared, Commander), over
	// the API one: compare what the shared commands added.
	overSlack, err := rig.db.Events(t.Context(), 1, 3)
	require.NoError(t, err)
	overAPI, err := db.Events(t.Context(), 1, 2)
	require.NoError(t, err)
	require.Len(t, overSlack, len(sharedCommands))
	require.Equal(t, comparable(overSlack), comparable(overAPI))
	for _, e := range overAPI {
		require.Equal(t, timeline.SourceAPI, e.Source)
		require.Equal(t, "api:admin", e.Actor)
	}
	for _, e := range overSlack {
		require.Equal(t, timeline.SourceCommand, e.Source)
	}
	overSocket, err := sock.db.Events(t.Context(), 1, 3)
	require.NoError(t, err)
	require.Equal(t, comparable(overSlack), comparable(overSocket), "Socket Mode records what HTTP mode does")
	for _, e := range overSocket {
		require.Equal(t, timeline.SourceCommand, e.Source)
	}
}
