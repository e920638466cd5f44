package api

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/people"
)

// ActionView is one action item as GET /api/v1/actions shows it: the
// item, the incident it belongs to, the priority it is worked at and
// whether it is overdue on its owner's day.
type ActionView struct {
	Incident      string `json:"incident"` // INC-7
	IncidentTitle string `json:"incident_title"`
	Service       string `json:"service,omitempty"`
	Private       bool   `json:"private,omitempty"`
	ID            int    `json:"id"`
	Text          string `json:"text"`
	Owner         string `json:"owner,omitempty"`
	// Priority is P0–P3 as worked (the incident's default when none was
	// given); PriorityDefault says it was not given.
	Priority        string    `json:"priority"`
	PriorityDefault bool      `json:"priority_default,omitempty"`
	State           string    `json:"state"` // open, done, wontdo
	Due             string    `json:"due,omitempty"`
	Overdue         bool      `json:"overdue"`
	Link            string    `json:"link,omitempty"`
	Reason          string    `json:"reason,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	ClosedAt        time.Time `json:"closed_at,omitzero"`
	ClosedBy        string    `json:"closed_by,omitempty"`
	// Ticket is the ticket Ooda keeps for the item in a tracker: its
	// state (pending, open, closed, failed), and once created its
	// tracker, project, id and page; nil for none.
	Ticket *incident.Ticket `json:"ticket,omitempty"`
}

// ActionPage is the answer of GET /api/v1/actions: one page of the items
// the token may see under the filters, newest incident first, each
// incident's items in order.
type ActionPage struct {
	Actions []ActionView `json:"actions"`
	// Total counts every item the token may see under the filters, on
	// every page.
	Total int `json:"total"`
	// NextCursor asks for the page after this one; empty on the last.
	NextCursor string `json:"next_cursor"`
	// People names the owners and closers of the page's items, by member
	// ID, as GET /api/v1/incidents/{n} names the people of its events.
	People map[string]string `json:"people,omitempty"`
}

// OwnerRefusal is the answer of GET /api/v1/actions to an owner=@name
// that names nobody, or several people: the people it may have meant.
type OwnerRefusal struct {
	OK    bool   `json:"ok"` // false
	Error string `json:"error"`
	// Candidates are the people the name may mean, by Display; at most
	// people.MaxCandidates, and More counts the rest.
	Candidates []Candidate `json:"candidates"`
	More       int         `json:"more,omitempty"`
}

// Candidate is one person an ambiguous or unknown name may mean.
type Candidate struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// The page sizes of GET /api/v1/actions.
const (
	defaultActionLimit = 100
	maxActionLimit     = 1000
)

// listActions answers GET /api/v1/actions[?owner=U…|@name][&state=open|done|
// wontdo|all][&overdue=true][&service=NAME][&limit=N][&cursor=C]. A
// private incident the token may not see gives no items and is not
// counted. Pages follow incident numbers down and item numbers up, so a
// cursor (the last item a page returned) stays right while items are
// added.
func (s *Server) listActions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := incident.ActionFilter{Service: q.Get("service")}
	if v := strings.TrimSpace(q.Get("owner")); v != "" {
		id, refusal := s.owner(v)
		if refusal != nil {
			writeJSON(w, http.StatusBadRequest, refusal)
			return
		}
		f.Owner = id
	}
	switch st := q.Get("state"); st {
	case "", "open":
	case incident.ActionDone, incident.ActionWontDo, incident.ActionsAll:
		f.State = st
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("state %q does not exist; use open (the default), done, wontdo or all", st))
		return
	}
	if v := q.Get("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "overdue must be true or false")
			return
		}
		f.Overdue = b
	}
	if f.Overdue && f.State != "" {
		writeError(w, http.StatusBadRequest, "overdue items are open ones: leave state out, or leave overdue out")
		return
	}
	limit := defaultActionLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxActionLimit {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be a whole number from 1 to %d, such as limit=%d", maxActionLimit, defaultActionLimit))
			return
		}
		limit = n
	}
	var after actionCursor // zero: from the first
	if v := q.Get("cursor"); v != "" {
		c, err := parseActionCursor(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "cursor is not one this API gave: pass the next_cursor of the previous page, or leave it out to start from the first item")
			return
		}
		after = c
	}
	incs, err := s.cfg.Store.Incidents(r.Context(), true)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	visible := incs[:0:0]
	for _, inc := range incs {
		if admits(r.Context(), inc) {
			visible = append(visible, inc)
		}
	}
	now := time.Now
	if s.cfg.Now != nil {
		now = s.cfg.Now
	}
	items := incident.ActionItems(visible, f, now(), s.cfg.Zones)
	// Newest incident first, its items in order: the order a cursor can
	// name a place in.
	slices.SortFunc(items, func(x, y incident.ActionItem) int {
		if c := cmp.Compare(y.Incident.Number, x.Incident.Number); c != 0 {
			return c
		}
		return cmp.Compare(x.Action.ID, y.Action.ID)
	})
	page := ActionPage{Actions: []ActionView{}, Total: len(items)}
	for _, it := range items {
		if after.n != 0 && !after.before(it) {
			continue
		}
		if len(page.Actions) == limit {
			last := page.Actions[limit-1]
			n, _ := incident.ParseID(last.Incident)
			page.NextCursor = actionCursor{n: n, id: last.ID}.String()
			break
		}
		page.Actions = append(page.Actions, actionView(it))
	}
	page.People = actionPeople(page.Actions, namer(s.cfg.People))
	writeJSON(w, http.StatusOK, page)
}

// owner is the member ID an owner= filter names: a member ID (with or
// without @) as it is, a name (@alice) as the directory finds it. A name
// that is nobody's, or several people's, is refused with the candidates.
func (s *Server) owner(v string) (string, *OwnerRefusal) {
	if id := strings.TrimPrefix(v, "@"); people.IsMemberID(id) {
		return id, nil
	}
	typed := "@" + strings.TrimPrefix(v, "@")
	if s.cfg.People == nil || s.cfg.People.Len() == 0 {
		return "", &OwnerRefusal{Error: fmt.Sprintf("Ooda cannot look up %q: it knows nobody's names yet. Name the owner by their Slack member ID, such as owner=U0123ABCD", typed), Candidates: []Candidate{}}
	}
	m := s.cfg.People.Find(typed)
	if m.ID != "" {
		return m.ID, nil
	}
	out := &OwnerRefusal{Candidates: make([]Candidate, 0, len(m.Candidates)), More: m.More}
	for _, p := range m.Candidates {
		out.Candidates = append(out.Candidates, Candidate{ID: p.ID, Name: p.Display()})
	}
	switch {
	case m.Ambiguous:
		out.Error = fmt.Sprintf("%q could be %d people: name one by member ID, such as owner=%s", typed, len(m.Candidates)+m.More, m.Candidates[0].ID)
	case len(m.Candidates) > 0:
		out.Error = fmt.Sprintf("nobody in the workspace goes by %q; did you mean one of the candidates? Name them by member ID, such as owner=%s", typed, m.Candidates[0].ID)
	default:
		out.Error = fmt.Sprintf("nobody in the workspace goes by %q: check the spelling, or name the owner by their Slack member ID, such as owner=U0123ABCD", typed)
	}
	return "", out
}

// actionPeople is the names of the owners and closers of as, as name
// shows them; nil when name knows none of them.
func actionPeople(as []ActionView, name func(string) string) map[string]string {
	if name == nil {
		return nil
	}
	var out map[string]string
	for _, a := range as {
		for _, id := range [...]string{a.Owner, a.ClosedBy} {
			if _, done := out[id]; done || !people.IsMemberID(id) {
				continue
			}
			if n := name(id); n != "" {
				if out == nil {
					out = map[string]string{}
				}
				out[id] = n
			}
		}
	}
	return out
}

func actionView(it incident.ActionItem) ActionView {
	a := it.Action
	return ActionView{
		Incident: it.Incident.ID, IncidentTitle: it.Incident.Title, Service: it.Incident.Service, Private: it.Incident.Private,
		ID: a.ID, Text: a.Text, Owner: a.Owner, Priority: it.Priority, PriorityDefault: a.Priority == "",
		State: a.Status, Due: a.Due, Overdue: it.Overdue, Link: a.Link, Reason: a.Reason,
		CreatedAt: a.CreatedAt.UTC(), ClosedAt: a.ClosedAt, ClosedBy: a.ClosedBy,
		Ticket: publicTicket(a.Ticket),
	}
}

// publicTicket is an item's ticket as the API shows it: without the key
// of the effect that creates it, which is Ooda's bookkeeping.
func publicTicket(t *incident.Ticket) *incident.Ticket {
	if t == nil {
		return nil
	}
	c := *t
	c.Effect, c.Previous = "", nil
	return &c
}

// actionCursor names the last item a page returned.
type actionCursor struct {
	n  uint64
	id int
}

// before reports whether it comes after the cursor's item in the list's
// order (incident down, item up).
func (c actionCursor) before(it incident.ActionItem) bool {
	if it.Incident.Number != c.n {
		return it.Incident.Number < c.n
	}
	return it.Action.ID > c.id
}

// actionCursorPrefix versions the cursor, as cursorPrefix does.
const actionCursorPrefix = "v1:after-action:"

func (c actionCursor) String() string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s%d:%d", actionCursorPrefix, c.n, c.id))
}

func parseActionCursor(s string) (actionCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return actionCursor{}, fmt.Errorf("decode cursor: %w", err)
	}
	rest, ok := strings.CutPrefix(string(raw), actionCursorPrefix)
	if !ok {
		return actionCursor{}, fmt.Errorf("cursor %q: not a v1 action cursor", raw)
	}
	refs := incident.ParseActionRefs(rest)
	if len(refs) != 1 || refs[0].String() != rest {
		return actionCursor{}, fmt.Errorf("cursor %q: not an item", raw)
	}
	return actionCursor{n: refs[0].Incident, id: refs[0].Action}, nil
}
