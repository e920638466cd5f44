package demo

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/incident"
)

// The demo's Slack app credentials for Sign in with Slack: the web UI
// needs them set to turn sign-in on, and the demo never uses them, since
// it signs people in itself.
const (
	demoClientID     = "0000000000.0000000000"
	demoClientSecret = "ooda-demo-client-secret"
)

// demoSignInPath is the demo's own sign-in route. It exists only here:
// `ooda serve` has no way to sign anyone in without Slack.
const demoSignInPath = "/demo/signin"

// serveWeb keeps Ooda's server up on ln after the script, with a route
// of the demo's own that signs whoever opens it in as the Commander, and
// prints that address. It returns when ctx ends (Ctrl-C).
func serveWeb(ctx context.Context, ln net.Listener, ooda *app.App, inc incident.Incident, w io.Writer, logger *slog.Logger) error {
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	secret := hex.EncodeToString(key)
	commander := demoCast[0]
	mux := http.NewServeMux()
	mux.Handle("/", ooda.Handler())
	mux.HandleFunc("GET "+demoSignInPath, func(rw http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("key")), []byte(secret)) != 1 {
			http.Error(rw, "this demo sign-in link is not the one `ooda demo --serve` printed; copy it again from the terminal", http.StatusForbidden)
			return
		}
		if err := ooda.Site().Admit(r.Context(), rw, commander.id, demoTeamID, commander.realName); err != nil {
			logger.Error("demo sign-in failed", "err", err)
			http.Error(rw, "the demo could not sign you in; the terminal shows why", http.StatusInternalServerError)
			return
		}
		http.Redirect(rw, r, fmt.Sprintf("/incidents/%d", inc.Number), http.StatusSeeOther)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	srv.RegisterOnShutdown(ooda.Site().Close)
	base := "http://" + browsable(ln.Addr())
	fmt.Fprintf(w, "\nThe web UI is up. Open this address to be signed in as %s (the demo's sign-in; `ooda serve` signs people in with Slack):\n\n  %s%s?key=%s\n\nCtrl-C stops it.\n",
		commander.realName, base, demoSignInPath, secret)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("demo web server: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// browsable is addr as a browser should open it: localhost for a
// loopback or unspecified host, where browsers keep Secure cookies over
// plain http.
func browsable(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
