package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// testLiveRetry: a live stream the server refuses (here: the session
// already holds as many streams as it may) is not given up for good. The
// page says it is paused and asks again later, and once a place is free
// it is live again, without a reload.
func (r *webRig) testLiveRetry(t *testing.T, browser context.Context) {
	tb := newTab(t, browser, r)
	tb.signIn()
	cookie := sessionCookie(tb.cookies())
	require.NotNil(t, cookie)

	// Hold every stream the session may open, from Go, with its cookie.
	live := r.url(fmt.Sprintf("/incidents/%d/live?since=0", r.open))
	var held []*http.Response
	defer func() {
		for _, h := range held {
			h.Body.Close()
		}
	}()
	for range 16 {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, live, nil)
		require.NoError(t, err)
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		held = append(held, resp)
		require.Equal(t, http.StatusOK, resp.StatusCode, "one of the session's streams")
	}
	require.Equal(t, http.StatusTooManyRequests, getWithCookie(t, live, cookie).StatusCode, "the session is at its cap")

	require.Equal(t, int64(http.StatusOK), tb.open(fmt.Sprintf("/incidents/%d", r.open)))
	tb.run(chromedp.Evaluate[chromedp.Void](`window.oodaNotReloaded = true`))
	tb.waitFor(`document.querySelector("#live-indicator").classList.contains("reconnecting")`, "the page saying live updates are paused")
	require.Contains(t, tb.text("#live-indicator"), "trying again in")

	for _, h := range held {
		h.Body.Close()
	}
	held = nil
	tb.waitFor(`document.querySelector("#live-indicator").classList.contains("on")`, "the page live again once a place is free")
	require.True(t, eval[bool](tb, `window.oodaNotReloaded === true`), "without a reload")
}
