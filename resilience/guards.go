package resilience

import "fmt"

// Guards holds the guard of each dependency Ooda calls, for wiring in one
// place.
type Guards struct {
	Slack      *Guard
	Prometheus *Guard
	Webhook    *Guard
}

// NewGuards builds the three guards from their policies, giving each the same
// options (logger, metrics, clock).
func NewGuards(slack, prometheus, webhook Policy, opts ...Option) (*Guards, error) {
	var gs Guards
	for _, x := range []struct {
		dst **Guard
		p   Policy
	}{{&gs.Slack, slack}, {&gs.Prometheus, prometheus}, {&gs.Webhook, webhook}} {
		g, err := New(x.p, opts...)
		if err != nil {
			return nil, fmt.Errorf("new guards: %w", err)
		}
		*x.dst = g
	}
	return &gs, nil
}

// DefaultGuards builds the three guards with DefaultPolicy.
func DefaultGuards(opts ...Option) (*Guards, error) {
	return NewGuards(DefaultPolicy(DependencySlack), DefaultPolicy(DependencyPrometheus), DefaultPolicy(DependencyWebhook), opts...)
}
