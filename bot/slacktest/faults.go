package slacktest

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// FaultKind is a way for a call to fail.
type FaultKind int

// The zero FaultKind is deliberately invalid, so that a Fault{} literal that
// forgot its Kind is caught instead of silently doing nothing.
const (
	// FaultStatus answers with HTTP Fault.Status (500 when unset) and a non-JSON
	// body, as Slack's edge does; slack-go returns a slack.StatusCodeError.
	FaultStatus FaultKind = iota + 1
	// FaultRateLimit answers 429 {"ok":false,"error":"ratelimited"}, with a
	// Retry-After header in whole seconds (rounded up) when Fault.RetryAfter > 0.
	FaultRateLimit
	// FaultHang never answers: the call blocks until the client gives up or the
	// server is closed, and the effect is not performed.
	FaultHang
	// FaultDelay waits Fault.Delay, then handles the call normally. If the client
	// gives up first, the call is abandoned and the effect is not performed.
	FaultDelay
	// FaultLostResponse performs the call (the message lands), then drops the
	// connection so the client never learns that it succeeded: the ambiguous
	// failure that idempotent retries must reconcile.
	FaultLostResponse
	// FaultReset drops the connection (TCP RST) without performing the call.
	FaultReset
	// FaultSlackError answers HTTP 200 {"ok":false,"error":Fault.Error}
	// ("internal_error" when unset) without performing the call.
	FaultSlackError
)

// String names the kind. It is what Call.Err records for a call the fault
// shaped, except that FaultSlackError records its ok:false code, and a
// FaultDelay that ran its course records the call's own outcome.
func (k FaultKind) String() string {
	switch k {
	case FaultStatus:
		return "status"
	case FaultRateLimit:
		return "ratelimited"
	case FaultHang:
		return "hang"
	case FaultDelay:
		return "delay"
	case FaultLostResponse:
		return "lost_response"
	case FaultReset:
		return "reset"
	case FaultSlackError:
		return "slack_error"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault scripts how the next call(s) to a method fail.
type Fault struct {
	Kind FaultKind
	// Times is how many calls the fault affects: 0 means 1, -1 means every call
	// until ClearFaults.
	Times int
	// Status is the HTTP status for FaultStatus; 0 means 500.
	Status int
	// RetryAfter is sent as Retry-After (whole seconds, rounded up) by
	// FaultRateLimit; 0 sends no header.
	RetryAfter time.Duration
	// Delay is how long FaultDelay waits before answering.
	Delay time.Duration
	// Error is the ok:false code for FaultSlackError; "" means "internal_error".
	Error string
}

type queuedFault struct {
	Fault
	left int // calls still to affect; negative means forever
}

// Fault queues f for the next calls to method; method "*" matches any method,
// including UploadMethod. Faults queued for the same method apply in the order
// they were queued, and a method's own faults apply before "*" faults.
// It panics if f.Kind is not one of the FaultKind constants, because a fault
// that silently does nothing would make a resilience test pass for the wrong
// reason.
func (s *Server) Fault(method string, f Fault) {
	if f.Kind < FaultStatus || f.Kind > FaultSlackError {
		panic(fmt.Sprintf("slacktest: Fault(%q) with invalid Kind %v", method, f.Kind))
	}
	left := f.Times
	if left == 0 {
		left = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], &queuedFault{Fault: f, left: left})
}

// ClearFaults drops every queued fault. It does not undo SetDown.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// SetDown makes every call answer 503 while down is true, as during a Slack
// outage, without disturbing queued faults.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// takeFault consumes the fault for one call to method. s.mu must be held.
func (s *Server) takeFault(method string) (Fault, bool) {
	if s.down {
		return Fault{Kind: FaultStatus, Status: http.StatusServiceUnavailable}, true
	}
	for _, key := range []string{method, "*"} {
		q := s.faults[key]
		if len(q) == 0 {
			continue
		}
		head := q[0]
		if head.left > 0 {
			head.left--
			if head.left == 0 {
				s.faults[key] = q[1:]
			}
		}
		return head.Fault, true
	}
	return Fault{}, false
}

// applyFault answers a call that a fault shapes and reports whether the caller
// should go on to handle it normally (only after a delay that ran its course).
// perform carries out the call's effect, for a lost response.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, idx int, f Fault, perform func()) bool {
	switch f.Kind {
	case FaultDelay:
		if s.wait(r, f.Delay) {
			return true
		}
		s.finish(idx, 0, f.Kind.String())
		abort(w)
	case FaultLostResponse:
		perform()
		s.finish(idx, 0, f.Kind.String())
		abort(w)
	case FaultStatus:
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		s.finish(idx, status, f.Kind.String())
		// Slack's edge sends HTML with 5xx; slack-go does not parse it.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, "<html><body>%d %s</body></html>\n", status, http.StatusText(status))
	case FaultRateLimit:
		if f.RetryAfter > 0 {
			secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		}
		s.finish(idx, http.StatusTooManyRequests, f.Kind.String())
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		s.finish(idx, 0, f.Kind.String())
		abort(w)
	case FaultReset:
		s.finish(idx, 0, f.Kind.String())
		abort(w)
	case FaultSlackError:
		code := f.Error
		if code == "" {
			code = "internal_error"
		}
		s.writeReply(w, idx, fail(code))
	}
	return false
}

// wait sleeps d unless the client gives up or the server closes first; it
// reports whether the full delay elapsed.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return false
	}
}

// abort drops the connection without a response. Lingering is turned off so the
// client sees a reset rather than a clean EOF, as when a load balancer gives up.
func abort(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
