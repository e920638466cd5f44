package app_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api/web/webtest"
	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/slotest"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// TestBrowserSLOs: the SLO page, in a real browser, over a fake
// Prometheus whose checkout SLO started burning two hours ago: its
// section shows the page level and three charts, inline under the site's
// Content-Security-Policy, one h1, and no horizontal scroll on a phone.
// Screenshots of it are saved with the others.
func TestBrowserSLOs(t *testing.T) {
	browser := startBrowser(t)
	burningSince := time.Now().Add(-2 * time.Hour)
	window := regexp.MustCompile(`\[([0-9a-z]+)\]`)
	promSrv := slotest.NewServer(t, func(q string, ts time.Time) (model.Value, error) {
		// 0.04 % errors, then 2 % since burningSince, averaged over
		// the query's window.
		m := window.FindStringSubmatch(q)
		if m == nil {
			return nil, fmt.Errorf("no window in %q", q)
		}
		d, err := model.ParseDuration(m[1])
		if err != nil {
			return nil, err
		}
		burning := min(max(ts.Sub(burningSince).Seconds()/time.Duration(d).Seconds(), 0), 1)
		ratio := 0.0004*(1-burning) + 0.02*burning
		return model.Vector{{Value: model.SampleValue(ratio), Timestamp: model.TimeFromUnixNano(ts.UnixNano())}}, nil
	})
	sloFile := filepath.Join(t.TempDir(), "checkout.yaml")
	require.NoError(t, os.WriteFile(sloFile, slotest.SlothFile("checkout", 99.9, "availability"), 0o644))

	fake := slacktest.New(slacktest.WithTeam(webTeam, webTeamName))
	t.Cleanup(fake.Close)
	for _, m := range webPeople {
		fake.AddMember(m)
	}
	rig := &webRig{fake: fake, general: fake.CreateChannel("general", false)}
	rig.oidc = webtest.NewProvider(webtest.WithUser(webAliceUser()))
	t.Cleanup(rig.oidc.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	rig.base = "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	cfg := app.DefaultConfig()
	cfg.SlackBotToken = slackTestBotToken
	cfg.SlackSigningSecret = slackTestSecret
	cfg.SlackAPIURL = fake.URL()
	cfg.AnnounceChannel = fake.CreateChannel("incidents", false)
	cfg.PublicURL = rig.base
	cfg.SlackClientID = rig.oidc.ClientID()
	cfg.SlackClientSecret = rig.oidc.ClientSecret()
	cfg.OIDCIssuer = rig.oidc.URL()
	cfg.SLOFiles, cfg.PrometheusURL = []string{sloFile}, promSrv.URL
	rig.db = storagetest.Open(t)
	rig.a = newApp(t, cfg, rig.db, app.Options{})
	_, err = rig.a.RefreshPeople(t.Context())
	require.NoError(t, err)
	rep, err := rig.a.TickSLOs(t.Context(), time.Now())
	require.NoError(t, err)
	require.Len(t, rep.Results, 1)
	require.Equal(t, slo.LevelPage, rep.Results[0].Level)
	serveOn(t, rig.a, ln)

	tb := newTab(t, browser, rig)
	tb.signIn()
	mark := tb.mark()
	require.Equal(t, int64(http.StatusOK), tb.open("/slos"))
	require.Equal(t, 1, tb.count("h1"))
	require.Equal(t, 1, tb.count("section.slo h2"), "one section per SLO")
	require.Contains(t, tb.text("section.slo h2"), "checkout/availability")
	require.Contains(t, tb.text("section.slo h2 .badge"), "Page")
	require.Equal(t, 3, tb.count(`section.slo figure.chart svg[role="img"]`), "the 6-hour, 3-day and budget charts")
	require.Equal(t, 1, tb.count(`header nav a[href="/slos"][aria-current="page"]`))
	require.Empty(t, tb.problemsSince(mark), "nothing the Content-Security-Policy blocked, nothing failed to load")
	tb.screenshot("", webWidths[0])

	tb.width(390)
	require.Equal(t, int64(http.StatusOK), tb.open("/slos"))
	require.LessOrEqual(t, eval[int](tb, `document.documentElement.scrollWidth`), 390, "fits a phone without scrolling sideways")
	tb.screenshot("", 390)
}
