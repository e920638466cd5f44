package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/timeline"
)

// testCommandBox: a command typed into the open incident's command box
// with the keyboard and sent with Enter is recorded once, as the
// signed-in person's, shows in the reply and the timeline of the page it
// was typed on, and arrives live in another tab open on the incident,
// which is not reloaded.
func (r *webRig) testCommandBox(t *testing.T, browser context.Context) {
	page := fmt.Sprintf("/incidents/%d", r.open)
	typer := newTab(t, browser, r)
	typer.signIn()
	require.Equal(t, int64(http.StatusOK), typer.open(page))
	if typer.count("form#command") == 0 {
		t.Skip("the incident page shows no command box: the app does not give the site its Commands yet")
	}
	watcher := newTab(t, browser, r)
	watcher.signIn()
	require.Equal(t, int64(http.StatusOK), watcher.open(page))
	loaded := watcher.documents()
	watcher.run(chromedp.Evaluate[chromedp.Void](`window.oodaNotReloaded = true`))

	const text = "p99 back under 300 ms"
	shown := fmt.Sprintf(`[...document.querySelectorAll("#timeline li.entry.phase-observe")].some(e => e.innerText.includes(%q))`, text)
	require.False(t, eval[bool](typer, shown), "the entry is not there before it is recorded")
	require.False(t, eval[bool](watcher, shown), "the entry is not there before it is recorded")

	// The keyboard only: Tab to the box, type, Enter.
	mark := typer.mark()
	typer.tabTo("the command box", 30, func(f focused) bool { return f.ID == "command-text" })
	typer.run(chromedp.KeyEvent("observe " + text))
	require.Equal(t, "observe "+text, typer.active().Value, "what was typed is in the box")
	require.Equal(t, int64(http.StatusOK), typer.navigate(chromedp.KeyEvent(kb.Enter)), "the command's answer")

	// The page it was typed on says it ran, empties the box and shows
	// the entry.
	require.True(t, strings.HasPrefix(typer.location(), r.url(page)), "the incident's page: %s", typer.location())
	require.Equal(t, 1, typer.count(`#command-reply.ran[role="status"]`), "the reply says the command ran: %q", typer.text("#command"))
	require.Empty(t, eval[string](typer, `document.querySelector("#command-text").value`), "the box is empty for the next command")
	require.True(t, eval[bool](typer, shown), "the entry in the timeline of the page it was typed on")
	require.Empty(t, typer.problemsSince(mark), "errors in the browser")
	typer.screenshot("", webWidths[0])
	typer.width(390)
	require.LessOrEqual(t, eval[int](typer, `document.documentElement.scrollWidth`), 390, "fits a phone without scrolling sideways")
	typer.screenshot("", 390)

	// The other tab follows, without a reload.
	watcher.waitFor(shown, "the command's entry in the other tab's timeline")
	require.True(t, eval[bool](watcher, `window.oodaNotReloaded === true`), "the other tab was not reloaded")
	require.Equal(t, loaded, watcher.documents(), "no document was loaded again")
	require.Empty(t, watcher.problemsSince(0), "errors in the other tab")
	watcher.screenshot("live", webWidths[0])

	// The store has it once, as Alice's.
	events, err := r.db.Events(t.Context(), r.open, 1)
	require.NoError(t, err)
	var got []timeline.Event
	for _, e := range events {
		if strings.Contains(e.Text, text) {
			got = append(got, e)
		}
	}
	require.Len(t, got, 1, "the command is recorded once")
	require.Equal(t, webAlice, got[0].Actor, "as the signed-in person")
	require.Equal(t, timeline.PhaseObserve, got[0].Phase, "an observation")
}
