package trackertest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ooda-sre/ooda/tickets/trackertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// request sends one raw request with its own transport, closed with the
// test, and returns the status and body.
func request(t *testing.T, method, url, auth, body string) (int, string, http.Header) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	if auth != "" {
		k, v, _ := strings.Cut(auth, ": ")
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.Header
}

func TestAuthentication(t *testing.T) {
	gh := trackertest.StartGitHub(t)
	gl := trackertest.StartGitLab(t)
	cloud := trackertest.StartJira(t, trackertest.JiraCloud)
	dc := trackertest.StartJira(t, trackertest.JiraDataCenter)
	for _, c := range []struct {
		name, method, url, auth string
		want                    int
	}{
		{"github token", "GET", gh.URL() + "repos/acme/ops/issues", "Authorization: Bearer " + gh.Token(), 200},
		{"github wrong token", "GET", gh.URL() + "repos/acme/ops/issues", "Authorization: Bearer nope", 401},
		{"github no token", "GET", gh.URL() + "repos/acme/ops/issues", "", 401},
		{"github unknown repo", "GET", gh.URL() + "repos/acme/nope/issues", "Authorization: Bearer " + gh.Token(), 404},
		{"gitlab token", "GET", gl.URL() + "/api/v4/projects/acme%2Fops/issues", "Private-Token: " + gl.Token(), 200},
		{"gitlab by id", "GET", gl.URL() + "/api/v4/projects/7/issues", "Private-Token: " + gl.Token(), 200},
		{"gitlab wrong token", "GET", gl.URL() + "/api/v4/projects/7/issues", "Private-Token: nope", 401},
		{"jira cloud bearer refused", "POST", cloud.URL() + "/rest/api/2/search/jql", "Authorization: Bearer " + cloud.Token(), 401},
		{"jira cloud old search gone", "POST", cloud.URL() + "/rest/api/2/search", "", 410},
		{"jira dc bearer", "POST", dc.URL() + "/rest/api/2/search", "Authorization: Bearer " + dc.Token(), 400},
		{"jira dc has no search/jql", "POST", dc.URL() + "/rest/api/2/search/jql", "Authorization: Bearer " + dc.Token(), 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body, _ := request(t, c.method, c.url, c.auth, "{}")
			require.Equal(t, c.want, status, body)
		})
	}
}

func TestFaultsAreCountedAndRunOut(t *testing.T) {
	f := trackertest.NewGitHub() // a demo process has no *testing.T
	defer f.Close()
	url := f.URL() + "repos/acme/ops/issues"
	auth := "Authorization: Bearer " + f.Token()
	f.Fail(trackertest.EndpointList, http.StatusBadGateway, 2)
	f.RateLimit(trackertest.EndpointList, 1500*time.Millisecond, 1)
	f.SecondaryRateLimit(trackertest.EndpointList, time.Minute, 1)

	for _, want := range []int{502, 502} {
		status, _, _ := request(t, "GET", url, auth, "")
		require.Equal(t, want, status)
	}
	status, _, h := request(t, "GET", url, auth, "")
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "2", h.Get("Retry-After"), "whole seconds, rounded up")
	require.Equal(t, "0", h.Get("X-RateLimit-Remaining"))
	status, body, h := request(t, "GET", url, auth, "")
	require.Equal(t, http.StatusForbidden, status)
	require.Contains(t, body, trackertest.GitHubSecondaryLimitMessage)
	require.Equal(t, "60", h.Get("Retry-After"))
	status, _, _ = request(t, "GET", url, auth, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 5, f.Calls(trackertest.EndpointList))
}

func TestCloseReleasesHangingCalls(t *testing.T) {
	f := trackertest.NewGitLab()
	f.Hang(trackertest.EndpointList, 1)
	done := make(chan error, 1)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	go func() {
		req, _ := http.NewRequest("GET", f.URL()+"/api/v4/projects/7/issues", nil)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	require.Eventually(t, func() bool { return f.Calls(trackertest.EndpointList) == 1 }, 10*time.Second, time.Millisecond)
	f.Close()
	require.Error(t, <-done, "the hanging call gets no answer")
}

func TestPagination(t *testing.T) {
	f := trackertest.StartGitHub(t)
	auth := "Authorization: Bearer " + f.Token()
	for range 3 {
		status, body, _ := request(t, "POST", f.URL()+"repos/acme/ops/issues", auth, `{"title":"t","labels":["incident"]}`)
		require.Equal(t, http.StatusCreated, status, body)
	}
	_, body, h := request(t, "GET", f.URL()+"repos/acme/ops/issues?per_page=2&labels=incident", auth, "")
	require.Contains(t, h.Get("Link"), `rel="next"`)
	require.Contains(t, h.Get("Link"), "page=2")
	require.Contains(t, body, `"number":3`, "newest first")
	_, _, h = request(t, "GET", f.URL()+"repos/acme/ops/issues?per_page=2&page=2", auth, "")
	require.Empty(t, h.Get("Link"))
}

// TestJiraDataCenterValidateQuery pins the Data Center search to its
// boolean validateQuery: true (the default) fails on a key in (…) naming
// an issue that does not exist, false only warns, and a string (Cloud's
// "strict"/"warn"/"none") is a 400.
func TestJiraDataCenterValidateQuery(t *testing.T) {
	f := trackertest.StartJira(t, trackertest.JiraDataCenter)
	auth := "Authorization: Bearer " + f.Token()
	status, body, _ := request(t, "POST", f.URL()+"/rest/api/2/issue", auth,
		`{"fields":{"project":{"key":"OPS"},"summary":"one","issuetype":{"name":"Task"}}}`)
	require.Equal(t, http.StatusCreated, status, body)
	const jql = `"jql":"project = \"OPS\" AND key in (\"OPS-1\", \"OPS-404\")"`
	for _, c := range []struct {
		name, validate string // validate: the validateQuery member, "" for none
		want           int
		says           string
	}{
		{"default validates", "", http.StatusBadRequest, "An issue with key 'OPS-404' does not exist"},
		{"true validates", `,"validateQuery":true`, http.StatusBadRequest, "An issue with key 'OPS-404' does not exist"},
		{"false warns", `,"validateQuery":false`, http.StatusOK, `"warningMessages":["An issue with key 'OPS-404' does not exist`},
		{"cloud's warn is refused", `,"validateQuery":"warn"`, http.StatusBadRequest, "validateQuery is true or false"},
		{"cloud's strict is refused", `,"validateQuery":"strict"`, http.StatusBadRequest, "validateQuery is true or false"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body, _ := request(t, "POST", f.URL()+"/rest/api/2/search", auth, "{"+jql+c.validate+"}")
			require.Equal(t, c.want, status, body)
			require.Contains(t, body, c.says)
			if c.want == http.StatusOK {
				require.Contains(t, body, `"key":"OPS-1"`)
			}
		})
	}
}

// TestGitHubSearch pins the fake's issue search to GitHub's: the quoted
// phrase in the bodies of the repository's issues, outside HTML comments
// (which GitHub does not index), pull requests left out by is:issue, and
// a 422 for a repository that does not exist.
func TestGitHubSearch(t *testing.T) {
	f := trackertest.StartGitHub(t)
	f.AddProject("acme/other")
	auth := "Authorization: Bearer " + f.Token()
	for _, issue := range []string{
		`{"title":"one","body":"fix it\n\n<!-- ooda-key: INC-3/12/create_ticket -->\n<sub>Ooda key: INC-3/12/create_ticket</sub>"}`,
		`{"title":"INC-3/12/create_ticket","body":"nothing"}`,
		`{"title":"hidden","body":"only in a comment <!-- ooda-key: INC-3/12/create_ticket -->"}`,
	} {
		status, body, _ := request(t, "POST", f.URL()+"repos/acme/ops/issues", auth, issue)
		require.Equal(t, http.StatusCreated, status, body)
	}
	f.AddPullRequest("acme/ops", "a PR", "<!-- ooda-key: INC-3/12/create_ticket -->")
	status, body, _ := request(t, "POST", f.URL()+"repos/acme/other/issues", auth, `{"title":"elsewhere","body":"INC-3/12/create_ticket"}`)
	require.Equal(t, http.StatusCreated, status, body)

	search := func(q string) (int, string) {
		status, body, _ := request(t, "GET", f.URL()+"search/issues?q="+url.QueryEscape(q), auth, "")
		return status, body
	}
	status, body = search(`"INC-3/12/create_ticket" repo:acme/ops in:body is:issue`)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"total_count":1`)
	require.Contains(t, body, `"incomplete_results":false`)
	require.Contains(t, body, `"title":"one"`)
	status, body = search(`"INC-3/12/create_ticket" repo:acme/nope in:body is:issue`)
	require.Equal(t, http.StatusUnprocessableEntity, status, body)
	require.Contains(t, body, "cannot be searched")
	require.Equal(t, 2, f.Calls(trackertest.EndpointSearch))
}
