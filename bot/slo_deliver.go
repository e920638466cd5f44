package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

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
	Slack SignalSlack
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
	Logger  *slog.Logger
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
		cfg.Timeout = DefaultSignalTimeout
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
		added, err := observeIn(ctx, d.cfg.Store, inc, sloEntryText(n), timeline.SourceSLO, key, n.At)
		if err != nil {
			errs = append(errs, err)
		}
		recorded = recorded || added
	}
	if recorded && d.cfg.Committed != nil {
		d.cfg.Committed()
	}
	if err := d.post(ctx, n, key, oldest, incs); err != nil {
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
		return change + "@" + strconv.FormatInt(n.At.UnixNano(), 10), n.At.Add(-historySkew), nil
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
	oldest := n.At.Add(-historySkew)
	if !prev.EvaluatedAt.IsZero() {
		oldest = prev.EvaluatedAt.Add(-historySkew)
	}
	return change + "@" + strconv.FormatInt(prev.EvaluatedAt.UnixNano(), 10), oldest, nil
}

func (d *SLODeliverer) post(ctx context.Context, n slo.Notice, key string, oldest time.Time, open []incident.Incident) error {
	if d.cfg.Slack == nil || d.cfg.Channel == "" {
		d.noChannel.Do(func() {
			d.cfg.Logger.InfoContext(ctx, "no SLO channel configured: SLO notices go to incidents' timelines only; set OODA_SLO_CHANNEL")
		})
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	_, _, err := postOnce(ctx, d.cfg.Guard, d.cfg.Slack, d.cfg.Channel, key, oldest, renderSLONotice(n, open), "")
	if err != nil {
		return fmt.Errorf("post %s notice for %s: %w", n.Kind, n.SLO, err)
	}
	return nil
}

// renderSLONotice is the SLO channel's message for n: what changed, the
// burn rate of each window, the budget left and how long it lasts, and
// the file the SLO comes from.
func renderSLONotice(n slo.Notice, open []incident.Incident) Message {
	r := n.Result
	name := "*" + Escape(n.SLO) + "*"
	var head string
	switch n.Kind {
	case slo.NoticeRecovery:
		head = fmt.Sprintf(":white_check_mark: SLO %s recovered: %s", name, levelChange(n))
	case slo.NoticeWarning, slo.NoticeRepeat:
		still := ""
		if n.Kind == slo.NoticeRepeat {
			still = "still "
		}
		switch n.To {
		case slo.LevelPage:
			head = fmt.Sprintf(":rotating_light: SLO %s is %sburning its error budget fast: *page*%s", name, still, wasLevel(n))
		case slo.LevelTicket:
			head = fmt.Sprintf(":warning: SLO %s is %sburning its error budget: *ticket*%s", name, still, wasLevel(n))
		case slo.LevelNoData:
			head = fmt.Sprintf(":grey_question: SLO %s %shas *no data*: its queries return nothing, so it cannot page%s", name, still, wasLevel(n))
		default:
			head = fmt.Sprintf(":warning: SLO %s: %s", name, levelChange(n))
		}
	case slo.NoticeFreeze:
		head = fmt.Sprintf(":lock: SLO %s: the deploy freeze of `%s` changed", name, Escape(n.Service))
	}
	var b strings.Builder
	b.WriteString(head)
	if a := r.Alert; a.Name != "" && (n.To == slo.LevelPage || n.To == slo.LevelTicket) {
		fmt.Fprintf(&b, "\n%s: %s and %s both above %s", a.Name, slo.FormatWindow(a.Window.Long), slo.FormatWindow(a.Window.Short), slo.FormatBurn(a.Threshold))
	}
	if burns := burnLine(r); burns != "" {
		b.WriteString("\nBurn rate: " + burns)
	}
	b.WriteString("\n" + budgetLine(r))
	switch n.Freeze {
	case slo.FreezeStarted:
		fmt.Fprintf(&b, "\n:no_entry: *Deploy freeze for `%s`*: its error budget is spent. Deploys wait until it comes back; pipelines can gate on `ooda freeze check --service %s`.", Escape(n.Service), Escape(n.Service))
	case slo.FreezeEnded:
		fmt.Fprintf(&b, "\n:unlock: *Deploy freeze for `%s` ended*: some error budget is back.", Escape(n.Service))
	}
	blocks := []slack.Block{mrkdwnSection(b.String())}
	if n.Kind != slo.NoticeRecovery && n.To == slo.LevelPage {
		if len(open) == 0 {
			blocks = append(blocks, declareSignalBlock(n.Service, n.Service+" SLO burning", timeline.SourceSLO))
		} else {
			var where []string
			for _, inc := range open {
				s := inc.ID
				if inc.ChannelID != "" {
					s += " <#" + inc.ChannelID + ">"
				}
				where = append(where, s)
			}
			blocks = append(blocks, contextMrkdwn("Open for `"+Escape(n.Service)+"`: "+strings.Join(where, ", ")+" (this warning is in its timeline)."))
		}
	}
	blocks = append(blocks, contextMrkdwn(fmt.Sprintf("SLO file `%s` · objective %s%% · evaluated at %s",
		Escape(n.File), strconv.FormatFloat(r.Objective, 'f', -1, 64), clockUTC(n.At))))
	return Message{Text: clipMrkdwn(Escape(sloEntryText(n)), maxFallbackText), Blocks: blocks}
}

// sloEntryText is a notice in words, without markup: the observe entry
// an open incident of the service gets, and the message's fallback text.
func sloEntryText(n slo.Notice) string {
	r := n.Result
	var b strings.Builder
	switch n.Kind {
	case slo.NoticeRecovery:
		fmt.Fprintf(&b, "SLO %s recovered (%s).", n.SLO, levelChange(n))
	case slo.NoticeFreeze:
		fmt.Fprintf(&b, "SLO %s: deploy freeze %s.", n.SLO, n.Freeze)
	default:
		still := ""
		if n.Kind == slo.NoticeRepeat {
			still = "still "
		}
		fmt.Fprintf(&b, "SLO %s is %sat %s%s.", n.SLO, still, n.To, wasLevel(n))
	}
	if burns := burnLine(r); burns != "" {
		b.WriteString(" Burn rate " + burns + ".")
	}
	b.WriteString(" " + budgetLine(r) + ".")
	switch n.Freeze {
	case slo.FreezeStarted:
		fmt.Fprintf(&b, " Deploy freeze for %s: its error budget is spent.", n.Service)
	case slo.FreezeEnded:
		fmt.Fprintf(&b, " Deploy freeze for %s ended.", n.Service)
	}
	fmt.Fprintf(&b, " SLO file: %s.", n.File)
	return b.String()
}

// wasLevel says what the level was before, " (was ok)", when it changed
// from a known one.
func wasLevel(n slo.Notice) string {
	if n.From == "" || n.From == n.To {
		return ""
	}
	return " (was " + string(n.From) + ")"
}

func levelChange(n slo.Notice) string {
	if n.From == "" || n.From == n.To {
		return string(n.To)
	}
	return string(n.From) + " → " + string(n.To)
}

// burnLine lists the burn rate of each alert window, shortest first: "5m
// 15.0× · 30m 6.20× · …". The period's window is the budget's, not a burn.
func burnLine(r slo.Result) string {
	if len(r.Windows) < 2 {
		return ""
	}
	var parts []string
	for _, w := range r.Windows[:len(r.Windows)-1] {
		parts = append(parts, slo.FormatWindow(w.Window)+" "+slo.FormatBurn(w.Burn))
	}
	return strings.Join(parts, " · ")
}

// budgetLine says how much of the period's budget is left and how long
// it lasts at the current burn.
func budgetLine(r slo.Result) string {
	period := ""
	if len(r.Windows) > 0 {
		period = " (" + slo.FormatWindow(r.Windows[len(r.Windows)-1].Window) + ")"
	}
	if math.IsNaN(r.BudgetRemaining) {
		return "Error budget left" + period + ": no data"
	}
	s := "Error budget left" + period + ": " + slo.FormatBudget(r.BudgetRemaining)
	switch {
	case r.Exhausted():
		s += " (spent)"
	case r.Exhausts:
		s += ", exhausted in " + slo.FormatDuration(r.ExhaustsIn) + " at " + slo.FormatBurn(r.Burn)
	}
	return s
}
