package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/tickets"
	"github.com/ooda-sre/ooda/tickets/github"
	"github.com/ooda-sre/ooda/tickets/gitlab"
	"github.com/ooda-sre/ooda/tickets/jira"
)

// trackerTimeout is a tracker call's deadline: Jira's create and search
// take seconds on a busy site, longer than Slack's calls.
const trackerTimeout = 10 * time.Second

// buildTickets builds the trackers of cfg.Tickets, each behind a guard of
// its own (a Jira outage opens Jira's breaker, not GitHub's or Slack's),
// and the Service that performs ticket effects, polls the trackers and
// takes their webhooks. Nothing is built when no tracker is configured.
func (a *App) buildTickets(cfg Config, lookupEnv func(string) (string, bool)) error {
	tc := cfg.Tickets
	if !tc.Enabled() {
		return nil
	}
	if cfg.slackMode() == "off" {
		// The effects executor opens tickets, and it runs with Slack:
		// without it every item would say "ticket pending" for ever.
		return errors.New("tickets: trackers are configured but Slack is not: tickets are opened by the effects executor, which runs with Slack; connect Slack (SLACK_BOT_TOKEN with SLACK_APP_TOKEN or SLACK_SIGNING_SECRET) or remove tickets: from the configuration")
	}
	creds, err := tc.LoadSecrets(lookupEnv)
	if err != nil {
		return err
	}
	var accounts *tickets.AccountMap
	if tc.AccountsFile != "" {
		if accounts, err = tickets.LoadAccounts(tc.AccountsFile); err != nil {
			return err
		}
	}
	metrics := resilience.NewMetrics(a.reg)
	var built []tickets.Configured
	for i, t := range tc.Trackers {
		p := resilience.DefaultPolicy("tracker_" + t.Name)
		p.Timeout = trackerTimeout
		g, err := resilience.New(p, resilience.WithLogger(a.logger), resilience.WithMetrics(metrics))
		if err != nil {
			return fmt.Errorf("tickets: tracker %s: %w", t.Name, err)
		}
		token := creds[i].Token.Reveal()
		var tr tickets.Tracker
		switch t.Kind {
		case tickets.KindGitHub:
			tr, err = github.New(github.Config{BaseURL: t.URL, Token: token, HTTPClient: g.HTTPClient()})
		case tickets.KindGitLab:
			tr, err = gitlab.New(gitlab.Config{BaseURL: t.URL, Token: token, HTTPClient: g.HTTPClient()})
		case tickets.KindJira:
			tr, err = jira.New(jira.Config{BaseURL: t.URL, Flavor: t.JiraFlavor(), Email: t.Email, Token: token, IssueType: t.JiraIssueType(), HTTPClient: g.HTTPClient()})
		default:
			err = fmt.Errorf("kind %q is not github, gitlab or jira", t.Kind)
		}
		if err != nil {
			return fmt.Errorf("tickets: tracker %s: %w", t.Name, err)
		}
		c := tickets.Configured{Name: t.Name, Kind: t.Kind, Tracker: tr, Guard: g}
		if s := creds[i].WebhookSecret; s != "" {
			c.WebhookSecret = []byte(s.Reveal())
		}
		built = append(built, c)
		a.trackerGuards = append(a.trackerGuards, g)
	}
	routes := tc.Routes()
	o := tickets.Options{
		Store: a.db, Trackers: built, Routes: routes, Accounts: accounts,
		Name: func(_ context.Context, id string) string {
			if p, ok := a.people.Person(id); ok {
				return p.Display()
			}
			return ""
		},
		Email: func(_ context.Context, id string) string {
			if p, ok := a.people.Person(id); ok {
				return p.Email
			}
			return ""
		},
		IncidentURL:  incidentURL(cfg.PublicURL),
		ChannelURL:   a.channelURL,
		Notify:       a.notifyExecutor,
		PollInterval: tc.Interval(),
		Now:          a.opts.Now,
		Logger:       a.logger,
	}
	if a.tickets, err = tickets.New(o); err != nil {
		return err // its sentences start with tickets:
	}
	a.dispatcher.Tickets = routes
	return nil
}

// incidentURL is incident n's page on the web UI at public; nil without
// one.
func incidentURL(public string) func(uint64) string {
	if public == "" {
		return nil
	}
	base := strings.TrimSuffix(public, "/")
	return func(n uint64) string { return base + "/incidents/" + strconv.FormatUint(n, 10) }
}

// channelURL is a channel's address in Slack's web client, "" while the
// workspace is unknown (Slack not configured, or not answering).
func (a *App) channelURL(channel string) string {
	if a.workspace == nil || channel == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	team, err := a.workspace.Team(ctx)
	if err != nil || team == "" {
		return ""
	}
	return "https://app.slack.com/client/" + team + "/" + channel
}

// notifyExecutor wakes the executor for effects a tracker's change
// queued; without Slack there is none.
func (a *App) notifyExecutor() {
	if a.executor != nil {
		a.executor.Notify()
	}
}
