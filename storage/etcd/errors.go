package etcd

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
)

var (
	// ErrUnreachable is matched (errors.Is) by the errors of calls that
	// failed because etcd could not be reached or had no quorum: the
	// guard's breaker is open, the deadline passed, no leader answered,
	// or so many calls were already waiting on etcd that the guard's
	// bulkhead turned this one away.
	// A write failing with it was not acknowledged; it may still have
	// landed, and repeating it with the same idempotency key is safe.
	// It matches incident.ErrUnavailable too, which is how the command
	// layer tells the person it was not recorded.
	ErrUnreachable = fmt.Errorf("etcd: %w", incident.ErrUnavailable)
	// ErrContention is matched by the errors of commands that lost the
	// race for the same record to other replicas too many times in a row.
	// Nothing was written; trying again is safe.
	ErrContention = fmt.Errorf("too many concurrent writers of the same record: %w", incident.ErrUnavailable)
)

// errNoKey refuses a write without an idempotency key: without one a
// retried Slack request would record twice.
var errNoKey = errors.New("storage: a command needs an idempotency key")

// refusal is a command the store declined before writing anything: the
// decider's own error, or a change that breaks the log's rules. It goes
// back to the caller as it is, not wrapped as a failure of the store.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }

// failed returns err as the caller sees it: a refusal as it is, a failure
// of the store wrapped with op.
func failed(op string, err error) error {
	if r, ok := errors.AsType[refusal](err); ok {
		return r.err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// mark tells the guard which of etcd's answers retrying cannot change, so
// it neither retries them nor counts them against the breaker: a request
// too large, a compacted revision, a denied permission, a full database.
func mark(err error) error {
	if err == nil {
		return nil
	}
	switch grpcCode(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange,
		codes.PermissionDenied, codes.ResourceExhausted, codes.Unimplemented, codes.AlreadyExists, codes.NotFound:
		return resilience.Permanent(err)
	}
	return err
}

// unreachable wraps err, the failure of a call to etcd, with
// ErrUnreachable unless etcd answered it for good (a permanent error: the
// request was wrong). Whatever else stopped the call — the breaker, the
// bulkhead, a deadline (which etcd's gRPC reports in more than one form,
// "code = Unknown desc = context deadline exceeded" among them), no
// leader — says etcd could not do it now. A caller's own cancellation is
// left as it is.
func unreachable(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, resilience.ErrPermanent) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnreachable, err)
}

// grpcCode is the gRPC code of err, looking through wrapping: a status
// error's, or etcd's own rpctypes.EtcdError's.
func grpcCode(err error) codes.Code {
	if c, ok := errors.AsType[interface {
		error
		Code() codes.Code
	}](err); ok {
		return c.Code()
	}
	if s, ok := status.FromError(err); ok {
		return s.Code()
	}
	return codes.Unknown
}
