package postmortem_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/postmortem"
)

// TestHTMLCarriesItsContentSecurityPolicy: a saved or mailed draft keeps
// the policy the API serves it with, in a meta tag at the top of its head,
// before anything the policy governs.
func TestHTMLCarriesItsContentSecurityPolicy(t *testing.T) {
	s := richIncident(t)
	page := string(postmortem.Draft(s.inc, s.events, richOptions()).HTML())
	meta := `<meta http-equiv="Content-Security-Policy" content="` + postmortem.ContentSecurityPolicy + `">`
	require.Equal(t, 1, strings.Count(page, meta))
	head := page[:strings.Index(page, "</head>")]
	require.Less(t, strings.Index(head, meta), strings.Index(head, "<style>"), "the policy comes before the styles")
	require.NotContains(t, postmortem.ContentSecurityPolicy, "frame-ancestors", "browsers ignore it in a meta tag; the header carries it")
}
