package command

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ooda-sre/ooda/slo"
)

// The kind label of ooda_command_ack_seconds (and of Slack's requests).
const (
	KindCommand     = "command"
	KindInteraction = "interaction"
)

// Transports, the transport label of ooda_command_ack_seconds.
const (
	TransportHTTP   = "http"
	TransportSocket = "socket"
	TransportAPI    = "api"
)

// NewAckHistogram returns ooda_command_ack_seconds (slo.AckMetric), by
// kind (command, interaction) and transport (http, socket, api): how long
// Ooda takes to answer a person. It is the one histogram of that name: the
// Slack handler and the API observe it, and Ooda's own SLO ("99.9 % of
// /incident commands acknowledged within 3 s") is measured on it, by
// prom.OwnSLO (which sums its label sets) and prom.NewOwnCollector. The
// caller registers it.
func NewAckHistogram() *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: slo.AckMetric,
		Help: "Time from receiving a slash command or interaction to answering it, by kind and transport (http, socket, api). Slack gives up after 3 s.",
		// 3 is a bucket boundary so the SLO "acknowledged within 3 s"
		// reads straight off le="3"; one between buckets would be rounded
		// down, counting some good answers as bad.
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2, 2.5, 3, 5, 10},
	}, []string{"kind", "transport"})
	// Every series exists from the start, at zero: the own SLO reads "no
	// commands yet" rather than "no histogram", and a rate() over the
	// first command sees it arrive.
	for _, kt := range [][2]string{
		{KindCommand, TransportHTTP}, {KindCommand, TransportSocket}, {KindCommand, TransportAPI},
		{KindInteraction, TransportHTTP}, {KindInteraction, TransportSocket},
	} {
		h.WithLabelValues(kt[0], kt[1])
	}
	return h
}
