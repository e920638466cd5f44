package signals

import (
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slackapi/slackapitest"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/internal/metrictest"
)

// fakeSlackToken is the token the fake Slack accepts by default.
const fakeSlackToken = "xoxb-test-token"

// alice is a person of the fake workspace.
const alice = "U0ALICE0001"

// signalBlockPrefix starts the block id of the "Declare incident" button
// (blockkit.DeclareSignalBlock). Slack sends the block id back with a
// click, so it is a wire format: buttons already posted carry it.
const signalBlockPrefix = "ooda_signal:"

// executorMetric reads one sample of the registry's metrics; 0 when absent.
var executorMetric = metrictest.Value

// messageKey is the effect key a message carries in its metadata, or "".
func messageKey(m slacktest.Message) string { return m.MetadataKey(slackapi.MetadataEventType) }

// duplicateKeys counts messages beyond the first carrying the same
// effect key, across the whole fake workspace.
func duplicateKeys(s *slacktest.Server) (int, map[string]int) {
	return s.DuplicateKeys(slackapi.MetadataEventType)
}

// The Slack guard the tests build, as the app does.
var (
	executorTestPolicy = slackapitest.Policy
	newExecutorGuard   = slackapitest.NewGuard
)
