package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/directory"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slackapi/slackapitest"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// peopleServer is the API over a store, with the directory app builds:
// refreshed from a fake Slack whose workspace has an Alice and two people
// who chose the display name "bob".
func peopleServer(t *testing.T) (*api.Server, *slacktest.Server, *directory.Directory) {
	t.Helper()
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.AddMember(slacktest.Member{ID: "U0ALICE", Handle: "alice.chen", RealName: "Alice Chen", DisplayName: "alice"})
	fake.AddMember(slacktest.Member{ID: "U0BOB", Handle: "bob.k", RealName: "Bob Kowalski", DisplayName: "bob"})
	fake.AddMember(slacktest.Member{ID: "U0BOB2", Handle: "bobby", RealName: "Bob Marley", DisplayName: "bob"})
	guard := slackapitest.NewGuard(t, slackapitest.Policy(), prometheus.NewRegistry())
	db := storagetest.Open(t)
	dir, err := directory.New(directory.Config{Store: db, Slack: slackapi.NewSlackClient("xoxb-test-token", fake.URL(), guard), Guard: guard})
	require.NoError(t, err)
	_, err = dir.Refresh(t.Context())
	require.NoError(t, err)
	srv, err := api.NewServer(api.ServerConfig{
		Store: db, APIToken: requestsToken, People: dir,
		Dispatcher: &command.Dispatcher{Store: db, People: dir},
	})
	require.NoError(t, err)
	return srv, fake, dir
}

func TestAPIResolvesNames(t *testing.T) {
	srv, fake, _ := peopleServer(t)
	auth := "Bearer " + requestsToken
	command := func(key, text string) (int, api.CommandReply) {
		t.Helper()
		code, out, _ := send(t, srv, http.MethodPost, "/api/v1/commands", auth, key, `{"text": `+quote(text)+`}`)
		b, err := json.Marshal(out)
		require.NoError(t, err)
		var rep api.CommandReply
		require.NoError(t, json.Unmarshal(b, &rep))
		return code, rep
	}

	// Declared by a token: a Commander only when the request names one.
	code, rep := command("d1", "declare sev2 Checkout is down")
	require.Equal(t, http.StatusOK, code, rep.Text)
	assert.Contains(t, rep.Text, "Nobody is Commander yet")
	code, rep = command("d2", "declare sev2 --commander @alice Search is slow")
	require.Equal(t, http.StatusOK, code, rep.Text)
	assert.Contains(t, rep.Text, "<@U0ALICE> is Commander.")
	assert.Equal(t, map[string]string{"U0ALICE": "Alice Chen (@alice)"}, rep.People, "the reply names who it mentions")

	// Unique, ambiguous, unknown.
	code, rep = command("r1", "role INC-1 ops @alice")
	require.Equal(t, http.StatusOK, code, rep.Text)
	assert.Equal(t, "INC-1: <@U0ALICE> is Ops.", rep.Text)
	code, rep = command("r2", "role INC-1 comms @bob")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, rep.Text, "“@bob” could be 2 people: Bob Kowalski (@bob) `@U0BOB`, Bob Marley (@bob) `@U0BOB2`.")
	code, rep = command("r3", "role INC-1 comms @bobb")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, rep.Text, "Nobody in the workspace goes by “@bobb”. Did you mean Bob Marley (@bob) `@U0BOB2`?")
	code, rep = command("r4", "role INC-1 comms @zed")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, rep.Text, "Check the spelling, or name the person by their Slack member ID")

	// Resolving asks Slack nothing: the directory answers from memory.
	calls := len(fake.Calls())
	fake.SetDown(true)
	code, rep = command("r5", "role INC-1 comms @bob.k")
	require.Equal(t, http.StatusOK, code, rep.Text)
	assert.Len(t, fake.Calls(), calls, "no Slack call on the command path")

	// The incident JSON names the people its events hold; the events keep
	// the ids.
	code, body := getJSON(t, srv, requestsToken, "/api/v1/incidents/1")
	require.Equal(t, http.StatusOK, code)
	var inc api.IncidentWithEvents
	require.NoError(t, json.Unmarshal(body, &inc))
	assert.Equal(t, map[string]string{"U0ALICE": "Alice Chen (@alice)", "U0BOB": "Bob Kowalski (@bob)"}, inc.People)
	assert.Equal(t, "U0ALICE", inc.Roles.Ops)
	for _, e := range inc.Events {
		if e.Kind == timeline.KindRoleAssigned {
			assert.NotContains(t, e.Attr(timeline.AttrUser), "Alice")
		}
	}
}

func TestAPIPostmortemNamesPeople(t *testing.T) {
	srv, fake, _ := peopleServer(t)
	auth := "Bearer " + requestsToken
	for i, text := range []string{
		"declare sev2 --commander @alice Checkout is down",
		"role INC-1 ops <@U0CAROL>", // not in the directory yet
		"action INC-1 raise the pool size @bob.k P1",
	} {
		code, out, _ := send(t, srv, http.MethodPost, "/api/v1/commands", auth, "k"+string(rune('a'+i)), `{"text": `+quote(text)+`}`)
		require.Equal(t, http.StatusOK, code, "%s: %v", text, out)
	}
	// Carol joins Slack's answers only now: the draft looks her up.
	fake.AddMember(slacktest.Member{ID: "U0CAROL", Handle: "carol", RealName: "Carol Diaz"})
	code, body := getJSON(t, srv, requestsToken, "/api/v1/incidents/1/postmortem?format=md")
	require.Equal(t, http.StatusOK, code, string(body))
	md := string(body)
	assert.Contains(t, md, "Alice Chen (@alice) is Commander")
	assert.Contains(t, md, "Carol Diaz (@carol) is Ops", "an unknown id is looked up for the draft")
	assert.Contains(t, md, "Bob Kowalski (@bob)")
	assert.NotContains(t, md, "shown by their Slack member ID")

	// Slack down, and a person nobody has named: the id, and the count.
	fake.SetDown(true)
	code, out, _ := send(t, srv, http.MethodPost, "/api/v1/commands", auth, "kz", `{"text": "role INC-1 comms <@U0DAVE>"}`)
	require.Equal(t, http.StatusOK, code, "%v", out)
	code, body = getJSON(t, srv, requestsToken, "/api/v1/incidents/1/postmortem?format=json")
	require.Equal(t, http.StatusOK, code, string(body))
	var doc struct {
		Review struct {
			UnresolvedNames int `json:"unresolved_names"`
		} `json:"review"`
	}
	require.NoError(t, json.Unmarshal(body, &doc))
	assert.Equal(t, 1, doc.Review.UnresolvedNames)
	assert.Contains(t, string(body), "U0DAVE is Comms")
	assert.Contains(t, string(body), "Alice Chen (@alice) is Commander", "the known names stay")
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return strings.TrimSpace(string(b))
}

func TestListActionsNamesAndResolvesOwners(t *testing.T) {
	srv, _, _ := peopleServer(t)
	auth := "Bearer " + requestsToken
	for i, text := range []string{
		"declare sev2 Checkout is down",
		"action INC-1 raise the pool size @bob.k P1",
		"action INC-1 roll back the config @alice P2",
	} {
		code, out, _ := send(t, srv, http.MethodPost, "/api/v1/commands", auth, "a"+string(rune('a'+i)), `{"text": `+quote(text)+`}`)
		require.Equal(t, http.StatusOK, code, "%s: %v", text, out)
	}
	list := func(query string) (int, []byte) {
		t.Helper()
		return getJSON(t, srv, requestsToken, "/api/v1/actions"+query)
	}

	code, body := list("")
	require.Equal(t, http.StatusOK, code, string(body))
	var page api.ActionPage
	require.NoError(t, json.Unmarshal(body, &page))
	require.Len(t, page.Actions, 2)
	assert.Equal(t, map[string]string{"U0ALICE": "Alice Chen (@alice)", "U0BOB": "Bob Kowalski (@bob)"}, page.People, "owners are named; the items keep the ids")

	tests := []struct {
		name, query string
		owners      []string // of the items listed; nil for a refusal
		candidates  []string
	}{
		{"member ID", "?owner=U0ALICE", []string{"U0ALICE"}, nil},
		{"member ID with @", "?owner=@U0BOB", []string{"U0BOB"}, nil},
		{"handle", "?owner=@bob.k", []string{"U0BOB"}, nil},
		{"display name, without @", "?owner=alice", []string{"U0ALICE"}, nil},
		{"ambiguous", "?owner=@bob", nil, []string{"U0BOB", "U0BOB2"}},
		{"unknown, with similar names", "?owner=@bobb", nil, []string{"U0BOB2"}},
		{"unknown", "?owner=@zed", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := list(tt.query)
			if tt.owners == nil {
				require.Equal(t, http.StatusBadRequest, code, string(body))
				var refusal api.OwnerRefusal
				require.NoError(t, json.Unmarshal(body, &refusal))
				assert.NotEmpty(t, refusal.Error)
				ids := []string{}
				for _, c := range refusal.Candidates {
					ids = append(ids, c.ID)
					assert.NotEmpty(t, c.Name)
				}
				assert.Equal(t, tt.candidates, ids)
				return
			}
			require.Equal(t, http.StatusOK, code, string(body))
			var page api.ActionPage
			require.NoError(t, json.Unmarshal(body, &page))
			var owners []string
			for _, a := range page.Actions {
				owners = append(owners, a.Owner)
			}
			assert.Equal(t, tt.owners, owners)
		})
	}
}
