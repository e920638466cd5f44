package app

import (
	"context"
	"time"

	"github.com/ooda-sre/ooda/api/web"
	"github.com/ooda-sre/ooda/incident"
)

// buildSite builds the web UI and puts it on the server's mux. Without
// Sign in with Slack configured its pages say how to configure it.
func (a *App) buildSite(cfg Config, zones incident.Zones) error {
	wc := web.Config{
		Store: a.db, People: a.people, Logger: a.logger, Now: a.opts.Now,
		PublicURL: cfg.PublicURL, ClientID: cfg.SlackClientID, ClientSecret: cfg.SlackClientSecret, Issuer: cfg.OIDCIssuer,
		Zones:    zones,
		Commands: webCommands{a.dispatcher},
	}
	if a.workspace != nil {
		wc.Workspace = a.workspace.Team
	}
	if a.monitor != nil {
		wc.PostmortemBudget = a.budget.Lookup
		wc.SLOs, wc.PostmortemChart = a.monitor, a.postmortemChart
	}
	site, err := web.New(wc)
	if err != nil {
		return err
	}
	a.site = site
	site.Register(a.server)
	return nil
}

// sessionsJob forgets web sessions that expired a day ago: they already
// let no one in, and the store should not grow with every sign-in.
func (a *App) sessionsJob() Job {
	return Job{Name: "expire-sessions", Schedule: "@every 1h", Timeout: time.Minute, Run: func(ctx context.Context, now time.Time) error {
		_, err := a.db.ExpireSessions(ctx, now.Add(-24*time.Hour))
		return err
	}}
}

// clock is now, or time.Now when it is nil.
func clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// Site is the web UI the App serves.
func (a *App) Site() *web.Site { return a.site }
