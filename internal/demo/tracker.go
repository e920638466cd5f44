package demo

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ooda-sre/ooda/tickets"
	"github.com/ooda-sre/ooda/tickets/trackertest"
)

// demoTrackerProject is the repository the demo's action items become
// issues in, on a fake GitHub.
const demoTrackerProject = "acme/checkout"

// writeDemoTracker writes what a team configures for GitHub issues: the
// token in a file, and an accounts file naming two of the cast's GitHub
// logins (the others are named in the issue instead). It returns the
// tickets: section of the configuration.
func writeDemoTracker(dir, url, token string) (tickets.Config, error) {
	tokenFile := filepath.Join(dir, "github-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		return tickets.Config{}, err
	}
	accounts := filepath.Join(dir, "accounts.yaml")
	if err := os.WriteFile(accounts, []byte("- slack: U0DEMOCAROL\n  github: carol-diaz\n- slack: U0DEMOALICE\n  github: alicechen\n"), 0o600); err != nil {
		return tickets.Config{}, err
	}
	return tickets.Config{
		Trackers:     []tickets.TrackerConfig{{Name: "github", Kind: tickets.KindGitHub, URL: url, TokenFile: tokenFile}},
		Default:      &tickets.Route{Tracker: "github", Project: demoTrackerProject},
		AccountsFile: accounts,
	}, nil
}

// showTickets shows the issues the action items became, and the rows of
// the draft's Action Items that link them.
func showTickets(w io.Writer, ts []trackertest.Ticket, draft []byte) {
	fmt.Fprintf(w, "\nThe action items are issues in %s (a fake GitHub), opened once each by the outbox:\n\n", demoTrackerProject)
	for _, t := range ts {
		assigned := "nobody"
		if len(t.Assignees) > 0 {
			assigned = strings.Join(t.Assignees, ", ")
		}
		fmt.Fprintf(w, "    #%s %s  [%s] %s · labels %s · assigned %s\n", t.ID, t.State, t.URL, t.Title, strings.Join(t.Labels, ", "), assigned)
	}
	fmt.Fprintf(w, "\nThe post-mortem draft's Action Items link them:\n\n")
	for _, r := range draftTicketRows(draft) {
		fmt.Fprintf(w, "    %s\n", r)
	}
}

// draftTicketRows are the rows of a draft's Action Items that name a
// ticket.
func draftTicketRows(draft []byte) []string {
	var rows []string
	for l := range strings.SplitSeq(string(draft), "\n") {
		if strings.HasPrefix(l, "| \\[") && strings.Contains(l, demoTrackerProject) {
			rows = append(rows, l)
		}
	}
	return rows
}
