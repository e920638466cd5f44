// Package roles holds the incident roles (Commander, Comms, Ops), the rules
// for assigning and handing them over, and the nudge policy that reminds
// people when a role is empty or a stakeholder update is due.
package roles

import (
	"errors"
	"fmt"
	"strings"
)

// Role is one of the three incident roles.
type Role string

// The incident roles.
const (
	Commander Role = "commander"
	Comms     Role = "comms"
	Ops       Role = "ops"
)

// All lists the roles in the order people read them.
var All = [...]Role{Commander, Comms, Ops}

// Title is the role's name as shown to people.
func (r Role) Title() string {
	switch r {
	case Commander:
		return "Commander"
	case Comms:
		return "Comms"
	case Ops:
		return "Ops"
	}
	return string(r)
}

// Parse reads a role name as users type it ("commander", "IC", "comms", "ops").
func Parse(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "commander", "ic", "incident-commander":
		return Commander, nil
	case "comms", "communications", "comm":
		return Comms, nil
	case "ops", "operations":
		return Ops, nil
	}
	return "", fmt.Errorf("%q is not a role; use commander, comms or ops", s)
}

// Holders says who holds each role; an empty string means unassigned.
type Holders struct {
	Commander string `json:"commander"`
	Comms     string `json:"comms"`
	Ops       string `json:"ops"`
}

// Get returns the holder of r.
func (h Holders) Get(r Role) string {
	switch r {
	case Commander:
		return h.Commander
	case Comms:
		return h.Comms
	case Ops:
		return h.Ops
	}
	return ""
}

// With returns a copy of h with r held by user.
func (h Holders) With(r Role, user string) Holders {
	switch r {
	case Commander:
		h.Commander = user
	case Comms:
		h.Comms = user
	case Ops:
		h.Ops = user
	}
	return h
}

// Empty lists the roles nobody holds.
func (h Holders) Empty() []Role {
	var out []Role
	for _, r := range All {
		if h.Get(r) == "" {
			out = append(out, r)
		}
	}
	return out
}

// Users lists the distinct role holders, Commander first.
func (h Holders) Users() []string {
	var out []string
	for _, r := range All {
		u := h.Get(r)
		if u != "" && !contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// ErrAlreadyHolds is returned when a role is assigned to the person who
// already holds it.
var ErrAlreadyHolds = errors.New("already holds the role")

// Assignment is the outcome of assigning a role.
type Assignment struct {
	Role     Role
	User     string
	Previous string // the former holder; non-empty means a handover
}

// Handover reports whether the assignment replaced someone.
func (a Assignment) Handover() bool { return a.Previous != "" }

// Assign checks that user may take r and says whether it is a handover.
// It refuses a role that does not exist, a blank user, and the person who
// already holds r (ErrAlreadyHolds).
// Holding two roles is allowed (small teams do it); Commander also holding
// Ops is warned about by the nudge policy, not refused here.
func Assign(h Holders, r Role, user string) (Assignment, error) {
	// Holders.With ignores a role it does not know, so an unknown role would
	// be recorded as assigned while nobody holds it.
	switch r {
	case Commander, Comms, Ops:
	default:
		return Assignment{}, fmt.Errorf("%q is not a role; use commander, comms or ops", string(r))
	}
	// A blank user would hold the role in name only: every view of it
	// would show nobody.
	if strings.TrimSpace(user) == "" {
		return Assignment{}, fmt.Errorf("name someone for %s: `/incident role %s @user`", r.Title(), r)
	}
	prev := h.Get(r)
	if prev == user {
		return Assignment{}, fmt.Errorf("%w: <@%s> is already %s", ErrAlreadyHolds, user, r.Title())
	}
	return Assignment{Role: r, User: user, Previous: prev}, nil
}
