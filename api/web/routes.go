package web

import "net/http"

// routes lists the site's pages. Every page but sign-in's own needs a
// signed-in person (signedIn); the live stream answers 401 rather than
// redirect, since a script, not a person, follows it.
func (s *Site) routes() []route {
	return []route{
		{"GET /{$}", s.signedIn(s.listPage)},
		{"GET /incidents/{n}", s.signedIn(s.incidentPage)},
		{"GET /incidents/{n}/live", s.signedInStream(s.live)},
		{"POST /incidents/{n}/commands", s.signedIn(s.runCommand)},
		{"GET /incidents/{n}/commands", s.signedIn(s.commandsPage)},
		{"GET /incidents/{n}/postmortem", s.signedIn(s.postmortemPage)},
		{"GET /insights", s.signedIn(s.insightsPage)},
		{"GET /insights.csv", s.signedIn(s.insightsCSV)},
		{"GET /slos", s.signedIn(s.slosPage)},
		{"GET /signin", http.HandlerFunc(s.signIn)},
		{"GET /signin/callback", http.HandlerFunc(s.signInCallback)},
		{"POST /signout", http.HandlerFunc(s.signOut)},
	}
}
