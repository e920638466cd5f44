package signals

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/timeline"
)

// SLOStateReader reads the SLO states the monitor keeps between ticks
// (the reading half of slo.StateStore).
type SLOStateReader interface {
	SLOStates(ctx context.Context) ([]slo.State, error)
}

// SLODelivererConfig is what delivering SLO notices needs.
type SLODelivererConfig struct {
	Store incident.Store
	// States gives each notice a key that stays the same when the notice
	// is given again (see SLODeliverer.Deliver). Nil keys notices by
	// their evaluation time, which only protects retries within one
	// delivery. storage.DB is one.
	States SLOStateReader
	// Slack posts the notices; nil leaves them to incidents' timelines.
	Slack slackapi.SignalSlack
	// Guard wraps every Slack call; required with Slack.
	Guard *resilience.Guard
	// Channel is the channel id notices are posted to (OODA_SLO_CHANNEL);
	// empty: they are not posted, which is logged once.
	Channel string
	// Committed wakes the executor after an incident got an entry; nil
	// does nothing.
	Committed func()
	// Timeout bounds one notice's Slack calls; 0 means
	// DefaultSignalTimeout.
	Timeout time.Duration
	// Chart draws the chart a page-level warning's thread gets, after the
	// warning is posted; nil, or a nil Files, uploads none.
	Chart ChartPNG
	// Files uploads the chart; the same client as Slack.
	Files ChartUploader
	// ChartTimeout bounds drawing one chart; 0 means DefaultChartTimeout.
	ChartTimeout time.Duration
	Logger       *slog.Logger
}

// SLODeliverer announces SLO notices: in the SLO channel, and as an
// observe entry in every open incident of the notice's service. Its
// Deliver is the slo.Deliver a Monitor's Tick is given.
type SLODeliverer struct {
	cfg       SLODelivererConfig
	noChannel sync.Once
}

// NewSLODeliverer checks cfg and fills in its defaults.
func NewSLODeliverer(cfg SLODelivererConfig) (*SLODeliverer, error) {
	if cfg.Store == nil {
		return nil, errors.New("slo deliverer: needs a store")
	}
	if cfg.Slack != nil && cfg.Guard == nil {
		return nil, errors.New("slo deliverer: Slack calls need a guard")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = slackapi.DefaultSignalTimeout
	}
	if cfg.ChartTimeout <= 0 {
		cfg.ChartTimeout = DefaultChartTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &SLODeliverer{cfg: cfg}, nil
}

var _ slo.Deliver = (*SLODeliverer)(nil).Deliver

// Deliver records n in the open incidents of its service, then posts it
// to the SLO channel. A page warning carries a "Declare incident" button,
// or, while an incident of the service is open, a link to its channel
// instead: a second incident for the same burn helps nobody.
//
// Delivery is at least once (the monitor gives a notice again until
// Deliver succeeds) and recorded once: the notice's key is its SLO, its
// change and the SLO's stored state, which the monitor leaves untouched
// until the notice is delivered, so a notice given again has the same key.
// The incident entries are keyed with it, and the post carries it in its
// metadata and is looked for in the channel's history before posting, so
// a post whose answer was lost (even before a restart) is not repeated.
// A page-level warning then gets its chart in its thread, once (see
// postChart).
func (d *SLODeliverer) Deliver(ctx context.Context, n slo.Notice) error {
	key, oldest, err := d.noticeKey(ctx, n)
	if err != nil {
		return err
	}
	incs, err := openIncidentsOf(ctx, d.cfg.Store, n.Service)
	if err != nil {
		return fmt.Errorf("deliver %s: %w", n.SLO, err)
	}
	var errs []error
	recorded := false
	for _, inc := range incs {
		added, err := observeIn(ctx, d.cfg.Store, inc, blockkit.NoticeText(n), timeline.SourceSLO, key, n.At, nil)
		if err != nil {
			errs = append(errs, err)
		}
		recorded = recorded || added
	}
	if recorded && d.cfg.Committed != nil {
		d.cfg.Committed()
	}
	ts, posted, err := d.post(ctx, n, key, oldest, incs)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	if err := d.postChart(ctx, n, key, ts, posted); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// noticeKey is the key of n and how far back its post may be: the
// monitor evaluated the SLO at the state's EvaluatedAt, and the notice
// was first given after that.
func (d *SLODeliverer) noticeKey(ctx context.Context, n slo.Notice) (string, time.Time, error) {
	change := fmt.Sprintf("slo:%s:%s:%s>%s", n.SLO, n.Kind, n.From, n.To)
	if n.Freeze != "" {
		change += ":freeze-" + string(n.Freeze)
	}
	if d.cfg.States == nil {
		return change + "@" + strconv.FormatInt(n.At.UnixNano(), 10), n.At.Add(-slackapi.HistorySkew), nil
	}
	states, err := d.cfg.States.SLOStates(ctx)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("deliver %s: %w", n.SLO, err)
	}
	var prev slo.State
	for _, st := range states {
		if st.SLO == n.SLO {
			prev = st
			break
		}
	}
	oldest := n.At.Add(-slackapi.HistorySkew)
	if !prev.EvaluatedAt.IsZero() {
		oldest = prev.EvaluatedAt.Add(-slackapi.HistorySkew)
	}
	return change + "@" + strconv.FormatInt(prev.EvaluatedAt.UnixNano(), 10), oldest, nil
}

// post posts n to the SLO channel once, and says where the message is
// and whether this call posted it.
func (d *SLODeliverer) post(ctx context.Context, n slo.Notice, key string, oldest time.Time, open []incident.Incident) (string, bool, error) {
	if d.cfg.Slack == nil || d.cfg.Channel == "" {
		d.noChannel.Do(func() {
			d.cfg.Logger.InfoContext(ctx, "no SLO channel configured: SLO notices go to incidents' timelines only; set OODA_SLO_CHANNEL")
		})
		return "", false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	// The SLO channel is not an incident's: a private incident is not
	// named there (the notice is in its timeline all the same).
	public := slices.DeleteFunc(slices.Clone(open), func(inc incident.Incident) bool { return inc.Private })
	msg := blockkit.SLONotice(n, public)
	ts, posted, err := slackapi.PostOnce(ctx, d.cfg.Guard, d.cfg.Slack, d.cfg.Channel, key, oldest, msg.Text, msg.Blocks, "")
	if err != nil {
		return "", false, fmt.Errorf("post %s notice for %s: %w", n.Kind, n.SLO, err)
	}
	return ts, posted, nil
}
