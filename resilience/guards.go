package resilience

import (
	"fmt"
	"slices"
)

// Guards holds the guard of each dependency Ooda calls, for wiring in one
// place.
type Guards struct {
	Slack      *Guard
	Prometheus *Guard
	Webhook    *Guard
}

// NewGuards builds the three guards from their policies, giving each the same
// options (logger, metrics, clock). slackErrors tells the Slack guard what
// the Slack client's errors mean (this package knows no Slack); nil leaves
// it the generic rules.
func NewGuards(slack, prometheus, webhook Policy, slackErrors Classifier, opts ...Option) (*Guards, error) {
	var gs Guards
	for _, x := range []struct {
		dst   **Guard
		p     Policy
		extra []Option
	}{{&gs.Slack, slack, []Option{WithClassifier(slackErrors)}}, {&gs.Prometheus, prometheus, nil}, {&gs.Webhook, webhook, nil}} {
		g, err := New(x.p, append(slices.Clip(opts), x.extra...)...)
		if err != nil {
			return nil, fmt.Errorf("new guards: %w", err)
		}
		*x.dst = g
	}
	return &gs, nil
}

// DefaultGuards builds the three guards with DefaultPolicy.
func DefaultGuards(slackErrors Classifier, opts ...Option) (*Guards, error) {
	return NewGuards(DefaultPolicy(DependencySlack), DefaultPolicy(DependencyPrometheus), DefaultPolicy(DependencyWebhook), slackErrors, opts...)
}
