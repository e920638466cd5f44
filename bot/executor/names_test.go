package executor

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/directory"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/timeline"
)

// namedHarness is a harness whose workspace has full names, and whose
// executor names people through a directory over its store and fake
// Slack, as app wires it.
func namedHarness(t *testing.T) (*harness, *directory.Directory) {
	t.Helper()
	h := newHarness(t)
	h.slack.AddMember(slacktest.Member{ID: alice, Handle: "alice", RealName: "Alice Chen"})
	h.slack.AddMember(slacktest.Member{ID: bob, Handle: "bob", RealName: "Bob Kowalski"})
	h.slack.AddMember(slacktest.Member{ID: carol, Handle: "carol", RealName: "Carol Diaz"})
	dir, err := directory.New(directory.Config{Store: h.db, Slack: h.slackUsers(), Guard: h.guard, Now: h.clock.Now})
	require.NoError(t, err)
	e, err := New(Config{Store: h.db, Outbox: h.db, Slack: h.api, Guard: h.guard, AnnounceChannel: h.announce, Now: h.clock.Now, People: dir})
	require.NoError(t, err)
	h.exec = e
	return h, dir
}

// slackUsers is the harness's Slack client as the directory calls it.
func (h *harness) slackUsers() directory.SlackUsers {
	users, ok := h.api.(directory.SlackUsers)
	require.True(h.t, ok, "the harness's Slack client lists users")
	return users
}

// uploadedDraft runs `/incident postmortem` and returns the Markdown the
// executor shared.
func (h *harness) uploadedDraft(d *command.Dispatcher, channel string) string {
	h.t.Helper()
	before := len(sharedFiles(h.slack))
	reply := h.command(d, channel, "postmortem")
	require.Equal(h.t, http.StatusOK, reply.Code, reply.Text)
	h.drainAll(h.exec)
	files := sharedFiles(h.slack)
	require.Len(h.t, files, before+1, "one more draft shared")
	return string(files[len(files)-1].Content)
}

func TestUploadedDraftNamesPeopleFromTheDirectory(t *testing.T) {
	h, dir := namedHarness(t)
	_, err := dir.Refresh(h.ctx)
	require.NoError(t, err)
	d := &command.Dispatcher{Store: h.db, People: dir}
	_, ch := h.resolvedIncident(d)

	md := h.uploadedDraft(d, ch)
	assert.Contains(t, md, "Alice Chen (@alice) is Commander")
	assert.Contains(t, md, "| Bob Kowalski (@bob) | P1 |", "the action's owner")
	assert.NotContains(t, md, alice)
	assert.NotContains(t, md, "shown by their Slack member ID")
}

// A first start during a Slack outage: nobody's name is known, and
// Slack cannot be asked. The draft shows the ids, as it always did, and
// says how many.
func TestUploadedDraftWithAnEmptyDirectoryAndSlackDown(t *testing.T) {
	h, dir := namedHarness(t)
	d := &command.Dispatcher{Store: h.db, People: dir}
	_, ch := h.resolvedIncident(d)
	// Slack's user API fails; files still upload, so the draft is seen.
	h.slack.Fault("users.info", slacktest.Fault{Kind: slacktest.FaultStatus, Status: http.StatusServiceUnavailable, Times: -1})

	md := h.uploadedDraft(d, ch)
	assert.Contains(t, md, alice+" is Commander")
	assert.Contains(t, md, "| "+bob+" | P1 |")
	assert.Contains(t, md, "2 people are shown by their Slack member ID")
	assert.NotEmpty(t, h.slack.CallsTo("users.info"), "the draft asked for the names it lacked")
}

// A person renamed after the incident: the log keeps the id, and the next
// draft shows the name they have now.
func TestUploadedDraftShowsARenamedPersonByTheirCurrentName(t *testing.T) {
	h, dir := namedHarness(t)
	_, err := dir.Refresh(h.ctx)
	require.NoError(t, err)
	d := &command.Dispatcher{Store: h.db, People: dir}
	n, ch := h.resolvedIncident(d)
	require.Contains(t, h.uploadedDraft(d, ch), "Alice Chen (@alice) is Commander")

	h.clock.Advance(time.Hour)
	h.slack.AddMember(slacktest.Member{ID: alice, Handle: "alice", RealName: "Alice Wong", DisplayName: "awong"})
	_, err = dir.Refresh(h.ctx)
	require.NoError(t, err)
	md := h.uploadedDraft(d, ch)
	assert.Contains(t, md, "Alice Wong (@awong) is Commander")
	assert.NotContains(t, md, "Alice Chen")
	for _, e := range eventsOfKind(h.events(n), timeline.KindRoleAssigned) {
		if e.Attr(timeline.AttrRole) == "commander" {
			assert.Equal(t, alice, e.Attr(timeline.AttrUser), "the stored event keeps the id")
		}
	}
	assert.Equal(t, alice, h.incident(n).Roles.Commander)
}
