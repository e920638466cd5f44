package resilience

import (
	"net"
	"net/http"
	"time"
)

const (
	// maxConnectTimeout bounds dialing and the TLS handshake: a healthy
	// endpoint connects in milliseconds, so a long connect is an outage and
	// should leave the rest of the attempt's budget unused, not eat it.
	maxConnectTimeout = 5 * time.Second
	// backstopMargin lets the per-attempt context deadline, which carries a
	// clearer error, fire before the client's own Timeout does.
	backstopMargin = time.Second
)

func newHTTPClient(p Policy) *http.Client {
	connect := min(p.Timeout, maxConnectTimeout)
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   connect,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSHandshakeTimeout:   connect,
		ResponseHeaderTimeout: p.Timeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		// The bulkhead caps calls in flight; keeping that many connections
		// idle means a burst after a quiet spell does not pay for new
		// handshakes.
		MaxIdleConnsPerHost: p.MaxConcurrent,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{
		Transport: &statusRecorder{next: t},
		Timeout:   p.Timeout + backstopMargin,
	}
}

// statusRecorder notes the status of every response in the attempt that
// made the request (see attemptState.hint).
type statusRecorder struct {
	next *http.Transport
}

func (t *statusRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		if st, ok := req.Context().Value(attemptKey{}).(*attemptState); ok {
			st.recordStatus(resp)
		}
	}
	return resp, err
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport through the wrapper.
func (t *statusRecorder) CloseIdleConnections() { t.next.CloseIdleConnections() }
