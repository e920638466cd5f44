package roles

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Role
		wantErr bool
	}{
		{in: "commander", want: Commander},
		{in: "Commander", want: Commander},
		{in: "  IC ", want: Commander},
		{in: "incident-commander", want: Commander},
		{in: "comms", want: Comms},
		{in: "COMMUNICATIONS", want: Comms},
		{in: "comm", want: Comms},
		{in: "ops", want: Ops},
		{in: "Operations", want: Ops},
		{in: "", wantErr: true},
		{in: "scribe", wantErr: true},
		{in: "commanders", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				// The sentence must tell the user what to type instead.
				require.Contains(t, err.Error(), "use commander, comms or ops")
				require.Equal(t, Role(""), got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestRoleTitle(t *testing.T) {
	require.Equal(t, "Commander", Commander.Title())
	require.Equal(t, "Comms", Comms.Title())
	require.Equal(t, "Ops", Ops.Title())
	require.Equal(t, "scribe", Role("scribe").Title())
}

func TestAssign(t *testing.T) {
	held := Holders{Commander: "U1", Comms: "U2"}
	tests := []struct {
		name     string
		h        Holders
		role     Role
		user     string
		want     Assignment
		handover bool
		wantErr  string // substring; "" means success
		already  bool   // the error wraps ErrAlreadyHolds
	}{
		{name: "empty role", h: held, role: Ops, user: "U3", want: Assignment{Role: Ops, User: "U3"}},
		{name: "handover", h: held, role: Commander, user: "U3", want: Assignment{Role: Commander, User: "U3", Previous: "U1"}, handover: true},
		{name: "second role for the same person", h: held, role: Ops, user: "U1", want: Assignment{Role: Ops, User: "U1"}},
		{name: "same holder refused", h: held, role: Comms, user: "U2", wantErr: "<@U2> is already Comms", already: true},
		{name: "empty user", h: held, role: Ops, user: "", wantErr: "name someone for Ops: `/incident role ops @user`"},
		{name: "blank user", h: held, role: Comms, user: "  ", wantErr: "name someone for Comms"},
		{name: "unknown role", h: held, role: Role("scribe"), user: "U3", wantErr: `"scribe" is not a role`},
		{name: "zero role", h: Holders{}, role: Role(""), user: "U3", wantErr: "is not a role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Assign(tt.h, tt.role, tt.user)
			if tt.wantErr != "" {
				require.Error(t, err)
				require.Contains(t, err.Error(), tt.wantErr)
				require.Equal(t, tt.already, errors.Is(err, ErrAlreadyHolds))
				require.Equal(t, Assignment{}, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.handover, got.Handover())
		})
	}
}

func TestHoldersGetWith(t *testing.T) {
	var h Holders
	for _, r := range All {
		require.Empty(t, h.Get(r), r)
	}
	h2 := h.With(Commander, "U1").With(Ops, "U2")
	require.Equal(t, Holders{Commander: "U1", Ops: "U2"}, h2)
	require.Equal(t, Holders{}, h, "With returns a copy")
	require.Equal(t, h2, h2.With(Role("scribe"), "U9"), "an unknown role changes nothing")
	require.Empty(t, h2.Get(Role("scribe")))
	require.Equal(t, Holders{Ops: "U2"}, h2.With(Commander, ""), "an empty user vacates the role")
}

func TestHoldersUsersAndEmpty(t *testing.T) {
	tests := []struct {
		name  string
		h     Holders
		users []string
		empty []Role
	}{
		{name: "nobody", h: Holders{}, users: nil, empty: []Role{Commander, Comms, Ops}},
		{name: "commander only", h: Holders{Commander: "U1"}, users: []string{"U1"}, empty: []Role{Comms, Ops}},
		{name: "all distinct", h: Holders{Commander: "U1", Comms: "U2", Ops: "U3"}, users: []string{"U1", "U2", "U3"}, empty: nil},
		{name: "commander first even when listed last", h: Holders{Commander: "U3", Comms: "U1"}, users: []string{"U3", "U1"}, empty: []Role{Ops}},
		{name: "one person holds two roles", h: Holders{Commander: "U1", Ops: "U1"}, users: []string{"U1"}, empty: []Role{Comms}},
		{name: "one person holds all", h: Holders{Commander: "U1", Comms: "U1", Ops: "U1"}, users: []string{"U1"}, empty: nil},
		{name: "comms and ops shared", h: Holders{Commander: "U1", Comms: "U2", Ops: "U2"}, users: []string{"U1", "U2"}, empty: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.users, tt.h.Users())
			require.Equal(t, tt.empty, tt.h.Empty())
		})
	}
}
