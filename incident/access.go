package incident

import (
	"slices"
	"strings"

	"github.com/ooda-sre/ooda/timeline"
)

// Admits reports whether person may see and act on the incident. This is
// the access rule, the one every transport applies (through the command
// dispatcher and the API): a public incident admits everyone; a private
// one only the members of its channel, or, until Ooda knows who those are
// (its channel is not made yet, or no one was invited yet), its declarer
// and role holders. To everyone else a private incident does not exist.
// Membership is what Ooda recorded, never a live call to Slack, so the
// answer is immediate and the same when Slack is down.
func (inc Incident) Admits(person string) bool {
	if !inc.Private {
		return true
	}
	if person == "" || !IsPerson(person) {
		return false
	}
	if slices.Contains(inc.Members, person) {
		return true
	}
	return !inc.MembersKnown && (person == inc.DeclaredBy || slices.Contains(inc.Roles.Users(), person))
}

// MemberJoined records that user joined the incident channel: as a new
// participant when they are one, else, in a private incident, as a member
// again (someone who left and came back); a known member records nothing.
func (inc *Incident) MemberJoined(user string, m Meta) (Change, error) {
	if !slices.Contains(inc.Participants, user) || !inc.Private {
		return inc.Record(timeline.KindParticipant, timeline.PhaseNone, "", map[string]string{timeline.AttrUser: user}, m)
	}
	return inc.MembersAdded([]string{user}, m)
}

// MembersAdded records people Ooda invited into the incident channel.
// Those already members are left out; nothing new records nothing.
func (inc *Incident) MembersAdded(users []string, m Meta) (Change, error) {
	var add []string
	for _, u := range users {
		if IsPerson(u) && !slices.Contains(inc.Members, u) && !slices.Contains(add, u) {
			add = append(add, u)
		}
	}
	if len(add) == 0 {
		return Change{}, nil
	}
	return inc.membership(timeline.KindMembersAdded, timeline.AttrUsers, strings.Join(add, ","), m)
}

// MembersSynced records the channel's members as Slack listed them,
// replacing what Ooda knew. The same set as known records nothing.
func (inc *Incident) MembersSynced(users []string, m Meta) (Change, error) {
	var set []string
	for _, u := range users {
		if IsPerson(u) && !slices.Contains(set, u) {
			set = append(set, u)
		}
	}
	slices.Sort(set)
	known := slices.Sorted(slices.Values(inc.Members))
	if inc.MembersKnown && slices.Equal(set, known) {
		return Change{}, nil
	}
	return inc.membership(timeline.KindMembersSynced, timeline.AttrUsers, strings.Join(set, ","), m)
}

// MemberLeft records that user left the channel of a private incident;
// one not known as a member, or a public incident, records nothing (who
// may see a public incident does not depend on it).
func (inc *Incident) MemberLeft(user string, m Meta) (Change, error) {
	if !inc.Private || !slices.Contains(inc.Members, user) {
		return Change{}, nil
	}
	return inc.membership(timeline.KindMemberLeft, timeline.AttrUser, user, m)
}

func (inc *Incident) membership(kind timeline.Kind, attr, value string, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	b := newBuilder(inc, m)
	b.event(kind, timeline.PhaseNone, "", map[string]string{attr: value})
	return b.ch, nil
}

func (inc *Incident) addMembers(users ...string) {
	inc.MembersKnown = true
	for _, u := range users {
		if u != "" && !slices.Contains(inc.Members, u) {
			inc.Members = append(inc.Members, u)
		}
	}
}
