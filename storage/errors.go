package storage

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinels for the ways Open refuses a file. They come wrapped in an
// *OpenError whose message tells the operator what to do; test them with
// errors.Is.
var (
	// ErrLocked means another process holds the database open.
	ErrLocked = errors.New("the database is in use by another process")
	// ErrCorrupt means the file is not an Ooda database or is damaged.
	ErrCorrupt = errors.New("not an Ooda database or damaged")
	// ErrSchemaTooNew means a newer ooda wrote the file.
	ErrSchemaTooNew = errors.New("the database schema is newer than this ooda understands")
)

// OpenError is why Open refused a file, worded for the operator who has to
// act on it. Kind is one of ErrLocked, ErrCorrupt and ErrSchemaTooNew.
type OpenError struct {
	Path string
	Kind error
	// Pid is the process holding the lock when Kind is ErrLocked and the
	// operating system says which one it is; 0 otherwise.
	Pid int
	// Schema and Supported are the file's schema version and the newest
	// this ooda knows, when Kind is ErrSchemaTooNew.
	Schema, Supported uint64
	// Err is the underlying cause, such as bbolt's checksum error.
	Err error
}

// Error says what is wrong with the file and what the operator can do.
func (e *OpenError) Error() string {
	switch e.Kind {
	case ErrLocked:
		pid := "pid unknown"
		if e.Pid > 0 {
			pid = "pid " + strconv.Itoa(e.Pid)
		}
		return fmt.Sprintf("open %s: the database is in use by another process (%s); stop the other ooda or point --db elsewhere", e.Path, pid)
	case ErrSchemaTooNew:
		return fmt.Sprintf("open %s: schema version %d is newer than this ooda understands (%d); upgrade ooda", e.Path, e.Schema, e.Supported)
	case ErrCorrupt:
		return fmt.Sprintf("open %s: not an Ooda database or damaged (%v); restore from a backup made with ooda backup", e.Path, e.Err)
	}
	return fmt.Sprintf("open %s: %v", e.Path, e.Err)
}

// Is lets errors.Is match the refusal's sentinel.
func (e *OpenError) Is(target error) bool { return target == e.Kind }

// Unwrap returns the underlying cause.
func (e *OpenError) Unwrap() error { return e.Err }

func corrupt(path string, cause error) error {
	return &OpenError{Path: path, Kind: ErrCorrupt, Err: cause}
}

// errNoKey refuses a write without an idempotency key: without one a
// retried Slack request would record twice.
var errNoKey = errors.New("storage: a command needs an idempotency key")
