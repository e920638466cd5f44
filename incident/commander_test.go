package incident_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// Who is Commander of a new incident: the person who declares it, unless
// the declaration names someone; nobody when a token or an alert declares
// it without naming one.
func TestDeclareNamesTheCommander(t *testing.T) {
	person := incident.Meta{At: t0, Actor: "U0DECL", Source: timeline.SourceCommand, Key: "k"}
	token := incident.Meta{At: t0, Actor: "api:ci", Source: timeline.SourceAPI, Key: "k"}
	tests := []struct {
		name      string
		commander string
		meta      incident.Meta
		want      string   // the Commander, "" for nobody
		invited   []string // who the channel invites
	}{
		{"a person declares: they are Commander", "", person, "U0DECL", []string{"U0DECL"}},
		{"a person names someone else", "U0ALICE", person, "U0ALICE", []string{"U0DECL", "U0ALICE"}},
		{"a person names themselves", "U0DECL", person, "U0DECL", []string{"U0DECL"}},
		{"a token declares: nobody is Commander", "", token, "", nil},
		{"a token names someone", "U0ALICE", token, "U0ALICE", []string{"U0ALICE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := incident.Declare(number, incident.Declaration{Title: "Checkout down", Commander: tt.commander}, tt.meta)
			require.NoError(t, err)
			var inc incident.Incident
			for _, e := range ch.Events {
				inc.Apply(e)
			}
			require.Equal(t, tt.want, inc.Roles.Commander)
			var invited []string
			for _, f := range ch.Effects {
				if f.Kind == incident.EffectInvite {
					invited = append(invited, f.Params["users"])
				}
			}
			if tt.invited == nil {
				require.Empty(t, invited, "nobody to invite")
				return
			}
			require.Len(t, invited, 1)
			require.Equal(t, strings.Join(tt.invited, ","), invited[0])
		})
	}
}

func TestDeclareRefusesACommanderWhoIsNoPerson(t *testing.T) {
	m := incident.Meta{At: t0, Actor: "api:ci", Source: timeline.SourceAPI, Key: "k"}
	for _, c := range []string{"api:ci", incident.Bot, "@alice", "<@U0ALICE>", "U0 ALICE"} {
		_, err := incident.Declare(number, incident.Declaration{Title: "Checkout down", Commander: c}, m)
		require.ErrorIs(t, err, incident.ErrInvalid, "%q", c)
		require.ErrorContains(t, err, "the Commander must be a person")
	}
}
