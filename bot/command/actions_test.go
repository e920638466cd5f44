package command

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// People of the workspace the action tests use, beside alice.
const (
	dana = "U0DANA00001"
	erin = "U0ERIN00001"
)

func TestParseActionReadings(t *testing.T) {
	tests := []struct {
		text string
		want Command
	}{
		{"action add a canary due +14d P1 <@U0BOB>", Command{Verb: VerbAction, Text: "add a canary", Owner: "U0BOB", Priority: "P1", Due: "+14d"}},
		{"action add a canary <@U0BOB> due 2026-12-20", Command{Verb: VerbAction, Text: "add a canary", Owner: "U0BOB", Due: "2026-12-20"}},
		{"action make it due soon", Command{Verb: VerbAction, Text: "make it due soon"}},
		{"action done with the migration", Command{Verb: VerbAction, Text: "done with the migration"}},
		{"action done 3", Command{Verb: VerbAction, Text: "done 3", Item: ItemCommand{Op: ItemDone, ID: 3}}},
		{"action INC-4 Done 3", Command{Verb: VerbAction, Incident: 4, Text: "Done 3", Item: ItemCommand{Op: ItemDone, ID: 3}}},
		{"action done 3 twice", Command{Verb: VerbAction, Text: "done 3 twice", Item: ItemCommand{Op: ItemDone, ID: 3,
			Err: usage("`/incident action done 3` takes nothing after the item's number. To add a new item, start its text with another word.")}}},
		{"action done 3 P9", Command{Verb: VerbAction, Text: "done 3 P9", Item: ItemCommand{Op: ItemDone, ID: 3,
			Err:    usage("`/incident action done 3` takes nothing after the item's number. To add a new item, start its text with another word."),
			NewErr: usage("priority is P0–P3, P0 the most urgent: `action roll back the config P1`")}}},
		{"action wontdo 3 superseded by  the rewrite", Command{Verb: VerbAction, Text: "wontdo 3 superseded by the rewrite",
			Item: ItemCommand{Op: ItemWontDo, ID: 3, Arg: "superseded by the rewrite"}}},
		{"action wontdo 3", Command{Verb: VerbAction, Text: "wontdo 3", Item: ItemCommand{Op: ItemWontDo, ID: 3}}},
		{"action owner 3 <@U0BOB|dana>", Command{Verb: VerbAction, Text: "owner 3", Owner: "U0BOB", Item: ItemCommand{Op: ItemOwner, ID: 3, Arg: "U0BOB"}}},
		{"action due 3 +7d", Command{Verb: VerbAction, Text: "due 3 +7d", Item: ItemCommand{Op: ItemDue, ID: 3, Arg: "+7d"}}},
		{"action link 3 <https://tracker.example/OPS-1|OPS-1>", Command{Verb: VerbAction, Text: "link 3 <https://tracker.example/OPS-1|OPS-1>",
			Item: ItemCommand{Op: ItemLink, ID: 3, Arg: "https://tracker.example/OPS-1"}}},
		{"action done 0", Command{Verb: VerbAction, Text: "done 0"}},
		{"action done +3", Command{Verb: VerbAction, Text: "done +3"}},
		{"actions", Command{Verb: VerbActions}},
		{"actions Mine overdue --service checkout page 2", Command{Verb: VerbActions, Mine: true, Overdue: true, Service: "checkout", Page: 2}},
		{"actions all --service=search", Command{Verb: VerbActions, AllStates: true, Service: "search"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := ParseCommand(tt.text)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	refused := []struct{ text, msg string }{
		{"action fix it due 12/20", "is not a due day: write it as 2026-12-20"},
		{"actions everything", "is not an actions option: `/incident actions [mine|overdue|all] [--service NAME] [page N]`"},
		{"actions all overdue", "ask for `/incident actions overdue` or `/incident actions all`, not both"},
		{"actions page", "say which page"},
		{"actions --service", "--service needs a name"},
	}
	for _, tt := range refused {
		t.Run(tt.text, func(t *testing.T) {
			_, err := ParseCommand(tt.text)
			var ue *UsageError
			require.ErrorAs(t, err, &ue)
			require.Contains(t, ue.Msg, tt.msg)
		})
	}
	require.True(t, ReadsOnly("actions overdue"), "a read-only token may list action items")
	require.False(t, ReadsOnly("action done 3"))
}

// actionRig is a dispatcher over a real store, with a clock that moves
// a minute per command.
type actionRig struct {
	t  *testing.T
	d  *Dispatcher
	at time.Time
	n  int
}

func newActionRig(t *testing.T) *actionRig {
	return &actionRig{t: t, d: &Dispatcher{Store: storagetest.Open(t)}, at: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
}

// as runs text as user (Slack), or as an API token when user is
// "api:<name>" (seesPrivate: with the private scope).
func (r *actionRig) as(user, text string, seesPrivate bool) Reply {
	r.n++
	r.at = r.at.Add(time.Minute)
	src := timeline.SourceCommand
	if !incident.IsPerson(user) {
		src = timeline.SourceAPI
	}
	return r.d.Handle(r.t.Context(), Request{Text: text, User: user, Source: src, Key: "k" + strconv.Itoa(r.n), At: r.at, SeesPrivate: seesPrivate})
}

func (r *actionRig) ok(user, text string) string {
	r.t.Helper()
	rep := r.as(user, text, false)
	require.Equal(r.t, http.StatusOK, rep.Code, "%s: %s", text, rep.Text)
	return rep.Text
}

func (r *actionRig) incident(n uint64) incident.Incident {
	inc, err := r.d.Store.Incident(r.t.Context(), n)
	require.NoError(r.t, err)
	return inc
}

// TestActionDoneVersusNewItem: `action done 3` changes item 3 only when
// the incident has one; otherwise the words are a new item's text. The
// choice is made on the state inside the store's transaction.
func TestActionDoneVersusNewItem(t *testing.T) {
	r := newActionRig(t)
	r.ok(alice, "declare sev2 Checkout down")

	require.Equal(t, "INC-1: action 1 added (P2, no owner yet, due Thu 31 Dec).", r.ok(alice, "action INC-1 done 3"),
		"no item 3: a new item")
	require.Equal(t, "done 3", r.incident(1).Actions[0].Text)
	require.Equal(t, "INC-1: action 2 added (P2, no owner yet, due Thu 31 Dec).", r.ok(alice, "action INC-1 wontdo 7"),
		"no item 7: a new item, even without a reason")
	require.Equal(t, "INC-1: action 3 added (P1, <@"+dana+">, due Tue 15 Dec).", r.ok(alice, "action INC-1 done with the migration <@"+dana+"> P1"))
	require.Equal(t, "done with the migration", r.incident(1).Actions[2].Text)

	require.Equal(t, "INC-1: action 3 is done.", r.ok(dana, "action INC-1 done 3"), "item 3 exists now")
	inc := r.incident(1)
	require.Len(t, inc.Actions, 3, "no item added")
	require.Equal(t, incident.ActionDone, inc.Actions[2].Status)

	rep := r.as(dana, "action INC-1 done 3", false)
	require.Equal(t, http.StatusConflict, rep.Code)
	require.Equal(t, "action 3 of INC-1 is already done", rep.Text)

	rep = r.as(dana, "action INC-1 done 3 twice", false)
	require.Equal(t, http.StatusBadRequest, rep.Code, "item 3 exists: the words are a change, and a wrong one")
	require.Contains(t, rep.Text, "takes nothing after the item's number")

	rep = r.as(dana, "action INC-1 wontdo 1", false)
	require.Equal(t, http.StatusBadRequest, rep.Code)
	require.Equal(t, "say why action 1 won't be done: `/incident action wontdo 1 superseded by the queue rewrite`", rep.Text)
	require.Equal(t, "INC-1: action 1 won't be done: typed by mistake.", r.ok(dana, "action INC-1 wontdo 1 typed by mistake"))
	require.Equal(t, "INC-1: action 2 is owned by <@"+erin+">.", r.ok(dana, "action INC-1 owner 2 <@"+erin+">"))
	require.Equal(t, "INC-1: action 2 is due Tue 8 Dec.", r.ok(dana, "action INC-1 due 2 +7d"))
	require.Equal(t, "INC-1: action 2 is tracked at https://tracker.example/OPS-9.", r.ok(dana, "action INC-1 link 2 <https://tracker.example/OPS-9>"))

	rep = r.as(dana, "action INC-1 done 9 P7", false)
	require.Equal(t, http.StatusBadRequest, rep.Code, "no item 9, and as a new item the priority is wrong")
	require.Contains(t, rep.Text, "priority is P0–P3")

	// After the post-mortem is published, items are still worked.
	r.ok(alice, "resolve INC-1")
	r.ok(alice, "postmortem INC-1 publish https://wiki.example/pm/1")
	require.Equal(t, "INC-1: action 2 is done.", r.ok(erin, "action INC-1 done 2"))
	rep = r.as(erin, "action INC-1 done with the cleanup", false)
	require.Equal(t, http.StatusConflict, rep.Code, "no item is added to a closed incident")
	require.Equal(t, incident.ActionDone, r.incident(1).Actions[1].Status)
	require.Equal(t, incident.StatusClosed, r.incident(1).Status)

	evs, err := r.d.Store.Events(t.Context(), 1, 1)
	require.NoError(t, err)
	text := TimelineText(r.incident(1), evs)
	require.Contains(t, text, "Action 3 done", "the change is on the timeline")
	require.Contains(t, text, "Action 2 done")
}

// TestActionsListRespectsAccess: `/incident actions` shows a private
// incident's items only to its members, and never counts them for
// anyone else, in Slack and through the API.
func TestActionsListRespectsAccess(t *testing.T) {
	r := newActionRig(t)
	r.ok(alice, "declare sev1 --private Payroll leak")
	r.ok(alice, "declare sev3 --service search Search slow")
	meta := incident.Meta{At: r.at, Actor: incident.Bot, Source: timeline.SourceSystem, Key: "sync"}
	_, err := r.d.Store.Apply(t.Context(), 1, meta.Key, func(inc *incident.Incident) (incident.Change, error) {
		return inc.MembersSynced([]string{alice, dana}, meta)
	})
	require.NoError(t, err)
	r.ok(alice, "action INC-1 rotate the payroll keys <@"+dana+"> P0")
	r.ok(alice, "action INC-2 add a search canary <@"+dana+"> P3")
	r.ok(alice, "action INC-2 tune the cache <@"+erin+">")

	tests := []struct {
		who         string
		seesPrivate bool
		text        string
		want        []string // INC-n #id listed
		not         string
	}{
		{who: dana, text: "actions", want: []string{"INC-1 #1", "INC-2 #2", "INC-2 #1"}},
		{who: dana, text: "actions mine", want: []string{"INC-1 #1", "INC-2 #1"}},
		{who: erin, text: "actions", want: []string{"INC-2 #2", "INC-2 #1"}, not: "Payroll"},
		{who: erin, text: "actions mine", want: []string{"INC-2 #2"}},
		{who: "api:ci", text: "actions", want: []string{"INC-2 #2", "INC-2 #1"}},
		{who: "api:admin", seesPrivate: true, text: "actions", want: []string{"INC-1 #1", "INC-2 #2", "INC-2 #1"}},
		{who: dana, text: "actions --service SEARCH", want: []string{"INC-2 #2", "INC-2 #1"}},
	}
	itemRE := regexp.MustCompile(`(?m)^• (INC-[0-9]+ #[0-9]+) `)
	for _, tt := range tests {
		t.Run(tt.who+" "+tt.text, func(t *testing.T) {
			rep := r.as(tt.who, tt.text, tt.seesPrivate)
			require.Equal(t, http.StatusOK, rep.Code, rep.Text)
			var got []string
			for _, m := range itemRE.FindAllStringSubmatch(rep.Text, -1) {
				got = append(got, m[1])
			}
			require.Equal(t, tt.want, got, rep.Text)
			require.True(t, strings.HasPrefix(rep.Text, strconv.Itoa(len(tt.want))+" "), "the count is of what the caller may see: %s", rep.Text)
			if len(tt.want) == 0 || tt.want[0] != "INC-1 #1" {
				require.NotContains(t, rep.Text, "INC-1", "the private incident does not exist for the caller")
				require.NotContains(t, rep.Text, "payroll")
			}
		})
	}
	rep := r.as("api:ci", "actions mine", false)
	require.Equal(t, http.StatusBadRequest, rep.Code)
	require.Contains(t, rep.Text, "GET /api/v1/actions?owner=")

	// A change to a private incident's item by a non-member: it does not
	// exist for them.
	rep = r.as(erin, "action INC-1 done 1", false)
	require.Equal(t, http.StatusNotFound, rep.Code)
	require.Equal(t, incident.ActionOpen, r.incident(1).Actions[0].Status)
}

func TestActionsListText(t *testing.T) {
	now := time.Date(2026, 12, 15, 9, 0, 0, 0, time.UTC)
	inc := incident.Incident{Number: 3, ID: "INC-3"}
	item := func(id int, owner, status, due string, overdue bool) incident.ActionItem {
		return incident.ActionItem{Incident: inc, Priority: "P1", Overdue: overdue,
			Action: incident.Action{ID: id, Text: "Add a <canary>", Owner: owner, Status: status, Due: due}}
	}
	tests := []struct {
		name string
		l    actionList
		want string
	}{
		{"nothing", actionList{Page: 1, Now: now}, "No open action items."},
		{"nothing of mine overdue", actionList{Page: 1, Mine: true, Overdue: true, Service: "checkout", Now: now},
			"No overdue action items of yours (service checkout)."},
		{"some", actionList{Page: 1, Now: now, All: true, Items: []incident.ActionItem{
			item(2, dana, incident.ActionOpen, "2026-12-10", true),
			item(4, "", incident.ActionOpen, "2027-01-10", false),
			item(1, dana, incident.ActionWontDo, "", false),
		}},
			"3 action items, overdue first:\n" +
				"• INC-3 #2 P1 · *overdue*, due Thu 10 Dec · <@U0DANA00001> · “Add a &lt;canary&gt;”\n" +
				"• INC-3 #4 P1 · due Sun 10 Jan 2027 · no owner · “Add a &lt;canary&gt;”\n" +
				"• INC-3 #1 P1 · won't do · <@U0DANA00001> · “Add a &lt;canary&gt;”\n" +
				"Mark one done with `/incident action INC-3 done 2`, or give it a new day with `/incident action INC-3 due 2 +7d`."},
		{"past the end", actionList{Page: 3, Now: now, Overdue: true, Items: []incident.ActionItem{item(2, dana, incident.ActionOpen, "2026-12-10", true)}},
			"There is no page 3: 1 overdue action item make 1 page(s) of 15. `/incident actions overdue` shows the last."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.l.Text())
		})
	}
}

// TestActionsListPagesStayWithinTheirBound: however long texts, ids and
// counts get, every page is within maxListText characters and every line
// within maxListLine, and the pages show each item once, in order.
func TestActionsListPagesStayWithinTheirBound(t *testing.T) {
	now := time.Date(2026, 12, 15, 9, 0, 0, 0, time.UTC)
	var items []incident.ActionItem
	for i := range 1000 {
		inc := incident.Incident{Number: uint64(1e15) + uint64(i), ID: incident.ID(uint64(1e15) + uint64(i))}
		items = append(items, incident.ActionItem{Incident: inc, Priority: "P0", Overdue: true, Action: incident.Action{
			ID: 1000 + i, Text: strings.Repeat("&<", incident.MaxText/2), Owner: "U0123456789ABCDEFGHIJ",
			Status: incident.ActionOpen, Due: "2025-12-31",
		}})
	}
	l := actionList{Items: items, Mine: true, Overdue: true, Service: strings.Repeat("&", 100), Now: now}
	lineRE := regexp.MustCompile(`^• INC-([0-9]+) #([0-9]+) `)
	var seen []string
	pages := (len(items) + listPageSize - 1) / listPageSize
	for p := 1; p <= pages; p++ {
		l.Page = p
		text := l.Text()
		require.LessOrEqual(t, utf8.RuneCountInString(text), maxListText, "page %d:\n%s", p, text)
		for _, line := range strings.Split(text, "\n") {
			if m := lineRE.FindStringSubmatch(line); m != nil {
				require.LessOrEqual(t, utf8.RuneCountInString(line), maxListLine, line)
				require.Contains(t, line, "· <@U0123456789ABCDEFGHIJ> · “", "the owner stays whole")
				seen = append(seen, m[1]+"#"+m[2])
			}
		}
		if p < pages {
			require.Contains(t, text, fmt.Sprintf("`/incident actions mine overdue --service %s page %d`", strings.Repeat("&amp;", 100), p+1))
		}
	}
	require.Len(t, seen, len(items))
	for i, s := range seen {
		require.Equal(t, fmt.Sprintf("%d#%d", uint64(1e15)+uint64(i), 1000+i), s)
	}
}

// TestActionOwnerOutsideAPrivateIncident: an owner who is not in a private
// incident's channel is given the item all the same, and the reply says
// they will not see it nor be reminded of it until they are invited.
func TestActionOwnerOutsideAPrivateIncident(t *testing.T) {
	r := newActionRig(t)
	r.ok(alice, "declare sev1 --private Payroll leak")
	r.ok(alice, "declare sev3 Search slow")
	meta := incident.Meta{At: r.at, Actor: incident.Bot, Source: timeline.SourceSystem, Key: "sync"}
	_, err := r.d.Store.Apply(t.Context(), 1, meta.Key, func(inc *incident.Incident) (incident.Change, error) {
		return inc.MembersSynced([]string{alice, dana}, meta)
	})
	require.NoError(t, err)
	warning := "<@" + erin + "> is not in this private incident's channel: invite them, or they will not see or be reminded of it."
	tests := []struct {
		name, text string
		warned     bool
	}{
		{"added, owner outside", "action INC-1 rotate the payroll keys <@" + erin + "> P0", true},
		{"added, owner a member", "action INC-1 audit the export <@" + dana + "> P1", false},
		{"added, no owner", "action INC-1 write the timeline", false},
		{"owner changed to someone outside", "action INC-1 owner 2 <@" + erin + ">", true},
		{"owner changed to a member", "action INC-1 owner 1 <@" + dana + ">", false},
		{"a public incident", "action INC-2 tune the cache <@" + erin + ">", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := r.ok(alice, tt.text)
			if tt.warned {
				require.Contains(t, text, warning)
			} else {
				require.NotContains(t, text, "is not in this private incident's channel")
			}
		})
	}
	require.Equal(t, erin, r.incident(1).Actions[1].Owner, "the item is theirs all the same")
}
