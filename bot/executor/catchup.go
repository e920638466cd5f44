package executor

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
)

// DefaultCatchUpAfter is how old a queued channel post must be before it is
// told as part of a catch-up instead of on its own. Posts normally leave
// the outbox within seconds; one a minute old waited out an outage.
const DefaultCatchUpAfter = time.Minute

// Result keys of a catch-up.
const (
	resultCatchUp    = "catchup"       // on the anchor: the event sequences it tells, comma-separated
	resultSummarized = "summarized_in" // on the others: the anchor's effect key
)

// collapsible reports whether a post can be told as one line of a catch-up:
// anything said in the incident's own channel except the kickoff, which
// people need whole.
func collapsible(pe incident.Pending) bool {
	fx := pe.Effect
	return fx.Kind == incident.EffectPost &&
		(fx.Target == incident.TargetIncident || fx.Target == "") &&
		fx.Template != incident.TemplateKickoff
}

// catchUp folds the stale channel posts of one incident's chain into one
// message. While Slack was unreachable people went on recording entries;
// when it returns, the channel gets one account of them rather than a
// burst of a message per entry. The first stale post becomes the anchor:
// the list it tells is written to its outbox entry first, then the others
// are completed as told by it, and only then is the anchor posted, under
// its own key, so a crash at any point neither loses an entry nor tells it
// twice. It returns the chain without the posts it folded.
func (e *Executor) catchUp(ctx context.Context, p *pass, chain []incident.Pending) []incident.Pending {
	now := e.cfg.Now()
	stale := func(pe incident.Pending) bool {
		return collapsible(pe) && pe.Result["ts"] == "" && pe.Result[resultCatchUp] == "" &&
			now.Sub(pe.QueuedAt) >= e.cfg.CatchUpAfter
	}
	// An anchor from an earlier pass (Slack still down then) takes in
	// what was recorded since, so the channel still gets one message.
	anchorAt := -1
	var folded []int
	for i, pe := range chain {
		switch {
		case anchorAt < 0 && pe.Result[resultCatchUp] != "" && pe.Result["ts"] == "":
			anchorAt = i
		case stale(pe):
			folded = append(folded, i)
		}
	}
	var seqs []string
	if anchorAt >= 0 {
		seqs = strings.Split(chain[anchorAt].Result[resultCatchUp], ",")
		kept := folded[:0]
		for _, i := range folded {
			if i > anchorAt {
				kept = append(kept, i)
			}
		}
		folded = append([]int{anchorAt}, kept...)
	}
	if len(folded) < 2 {
		return chain
	}
	anchor := chain[folded[0]]
	for _, i := range folded {
		if i != anchorAt {
			seqs = append(seqs, strconv.FormatUint(chain[i].Effect.Seq, 10))
		}
	}
	values := map[string]string{resultCatchUp: strings.Join(seqs, ",")}
	if err := e.cfg.Outbox.Defer(ctx, anchor.OutboxSeq, incident.Retry{
		Attempts: anchor.Attempts, NextAt: anchor.NextAt, Error: anchor.LastError, Result: values,
	}); err != nil {
		p.fail(fmt.Errorf("mark catch-up %s: %w", anchor.Effect.Key, err))
		return chain[:0]
	}
	chain[folded[0]].Result = values
	drop := make(map[int]bool, len(folded))
	for _, i := range folded[1:] {
		pe := chain[i]
		if _, err := e.cfg.Outbox.Complete(ctx, pe.OutboxSeq, incident.Outcome{
			Result: map[string]string{resultSummarized: anchor.Effect.Key}, At: now,
		}); err != nil {
			p.fail(fmt.Errorf("fold %s into catch-up: %w", pe.Effect.Key, err))
			return chain[:0]
		}
		e.metrics.effects.WithLabelValues(string(pe.Effect.Kind), effectSummarized).Inc()
		p.removedOne(pe.Effect.Kind)
		drop[i] = true
	}
	out := chain[:0:0]
	for i, pe := range chain {
		if !drop[i] {
			out = append(out, pe)
		}
	}
	return out
}
