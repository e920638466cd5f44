package incident

import (
	"errors"
	"fmt"
)

// Sentinels for the two ways a command can be refused. Adapters map them to
// answers: ErrInvalid is the user's input (HTTP 400), ErrRefused is the
// incident's state (HTTP 409). Both carry a sentence the user can act on.
var (
	ErrInvalid  = errors.New("invalid command")
	ErrRefused  = errors.New("refused by the incident's state")
	ErrNotFound = errors.New("no such incident")
	// ErrUnavailable is a store that could not be reached (a store of
	// several replicas without quorum): nothing was recorded, and the
	// command may be sent again.
	ErrUnavailable = errors.New("the store is unreachable")
)

// UserError is a refusal worded for the person who typed the command.
type UserError struct {
	kind error
	Msg  string
}

func (e *UserError) Error() string { return e.Msg }

// Is lets errors.Is match the refusal's sentinel.
func (e *UserError) Is(target error) bool { return target == e.kind }

func invalid(format string, args ...any) error {
	return &UserError{kind: ErrInvalid, Msg: fmt.Sprintf(format, args...)}
}

func refused(format string, args ...any) error {
	return &UserError{kind: ErrRefused, Msg: fmt.Sprintf(format, args...)}
}

// Refused is a refusal by the incident's state, worded for the user, for
// adapters that decide on the state themselves (a button that went stale).
func Refused(msg string) error { return &UserError{kind: ErrRefused, Msg: msg} }

// NotFound is the error for an incident number nobody has declared.
func NotFound(number uint64) error {
	return &UserError{kind: ErrNotFound, Msg: fmt.Sprintf("%s does not exist; `/incident list` shows the open incidents", ID(number))}
}
