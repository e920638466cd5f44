package command

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
)

// SLOReader is what `/incident slo` reads: the latest evaluation, which
// answers at once whatever Prometheus is doing. *prom.Monitor is one.
type SLOReader interface {
	Last() slo.Snapshot
}

// OwnSLOFunc measures Ooda's own SLO in-process (app measures it with prom.OwnSLO).
type OwnSLOFunc func() (slo.OwnStatus, error)

// maxSLOTable bounds the table a reply carries: Slack cuts long messages,
// and a service's own table is one command away.
const maxSLOTable = 3000

// sloReply answers `/incident slo [service]` from the latest evaluation
// and Ooda's own SLO, without calling Prometheus.
func (d *Dispatcher) sloReply(service string) Reply {
	var b strings.Builder
	code := http.StatusOK
	if d.SLO == nil {
		b.WriteString("No SLOs are configured: list SLO files (Sloth, its Kubernetes form or OpenSLO) in `slo_files` (OODA_SLO_FILES) and set PROMETHEUS_URL.")
	} else {
		snap := d.SLO.Last()
		code = writeSLOSnapshot(&b, snap, service)
		writeSLOProblems(&b, snap, service)
	}
	if d.OwnSLO != nil {
		b.WriteString("\n" + ownSLOLine(d.OwnSLO))
	}
	return Reply{Text: b.String(), Code: code}
}

// writeSLOSnapshot writes the table of snap's report (of service's SLOs
// when service is set), how old it is and, when the latest evaluation
// failed, why. It returns the reply's code: 404 for a service without
// SLOs.
func writeSLOSnapshot(b *strings.Builder, snap slo.Snapshot, service string) int {
	rep := snap.Report
	if len(rep.Results) == 0 && len(snap.Problems) > 0 && service == "" {
		b.WriteString("No SLO could be loaded from the SLO files.")
		return http.StatusOK
	}
	if snap.Report.At.IsZero() {
		b.WriteString("The SLOs have not been evaluated yet.")
		if snap.Reason != "" {
			fmt.Fprintf(b, " The latest attempt failed at %s: %s.", mrkdwn.Clock(snap.FailedAt), mrkdwn.Escape(resilience.Redact(snap.Reason)))
		}
		return http.StatusOK
	}
	if service != "" {
		var mine []slo.Result
		var known []string
		for _, r := range rep.Results {
			if strings.EqualFold(r.Service, service) {
				mine = append(mine, r)
			}
			if !slices.Contains(known, r.Service) {
				known = append(known, r.Service)
			}
		}
		if len(mine) == 0 {
			slices.Sort(known)
			fmt.Fprintf(b, "No SLO is defined for service %s. Services with SLOs: %s.", echo(service), mrkdwn.Escape(strings.Join(known, ", ")))
			return http.StatusNotFound
		}
		rep.Results = mine
	}
	fmt.Fprintf(b, "%d SLO(s), evaluated %s ago (at %s):\n", len(rep.Results), slo.FormatDuration(snap.Age), mrkdwn.Clock(rep.At))
	if snap.Stale {
		fmt.Fprintf(b, ":warning: Stale: the latest evaluation failed%s (at %s), so this is the last one that worked. Reason: %s\n",
			sinceFailure(snap), mrkdwn.Clock(snap.FailedAt), mrkdwn.Escape(resilience.Redact(snap.Reason)))
	}
	var table bytes.Buffer
	_ = slo.WriteTable(&table, rep) // a bytes.Buffer does not fail
	b.WriteString("```\n" + clipTable(table.String(), maxSLOTable) + "```")
	return http.StatusOK
}

// maxSLOProblems bounds the problems a reply lists; `ooda slo validate`
// lists them all.
const maxSLOProblems = 8

// maxSLOProblemLine bounds one problem's line: its file, line and field
// come first, and the file says the rest.
const maxSLOProblemLine = 300

// writeSLOProblems says which SLOs cannot be evaluated because of their
// files: the problems of the latest (re)load of the SLO files, and the
// SLOs whose queries Prometheus refused. Those are configuration errors
// to correct in the files, not Prometheus being down. With a service
// asked about, the load problems are counted, not listed: they may be
// anyone's.
func writeSLOProblems(b *strings.Builder, snap slo.Snapshot, service string) {
	var refused []slo.Result
	for _, r := range snap.Report.ConfigErrors() {
		if service == "" || strings.EqualFold(r.Service, service) {
			refused = append(refused, r)
		}
	}
	if len(refused) > 0 {
		b.WriteString("\n:warning: Configuration errors: Prometheus answered but refused these SLOs' queries; correct them in their files and reload (SIGHUP):")
		for _, r := range refused {
			fmt.Fprintf(b, "\n• %s: %s", mrkdwn.Escape(r.SLO), mrkdwn.Escape(mrkdwn.Clip(errText(r.Err), maxSLOProblemLine)))
		}
	}
	if len(snap.Problems) == 0 {
		return
	}
	if service != "" {
		fmt.Fprintf(b, "\n:warning: %d problem(s) in the SLO files keep SLOs out; `/incident slo` lists them.", len(snap.Problems))
		return
	}
	fmt.Fprintf(b, "\n:warning: %d problem(s) in the SLO files; the SLOs they name are not evaluated until the files are corrected and reloaded (SIGHUP):", len(snap.Problems))
	for i, p := range snap.Problems {
		if i == maxSLOProblems {
			fmt.Fprintf(b, "\n… %d more; `ooda slo validate` on the files lists them all", len(snap.Problems)-i)
			break
		}
		fmt.Fprintf(b, "\n• %s", mrkdwn.Escape(mrkdwn.Clip(p.Error(), maxSLOProblemLine)))
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// sinceFailure says how long ago the latest evaluation failed, " 40s
// ago", on the snapshot's own clock: its age is that of the report, so
// the report's time plus its age is when Last was asked.
func sinceFailure(snap slo.Snapshot) string {
	if snap.FailedAt.IsZero() || snap.Report.At.IsZero() {
		return ""
	}
	d := snap.Report.At.Add(snap.Age).Sub(snap.FailedAt)
	if d < 0 {
		return ""
	}
	return " " + slo.FormatDuration(d) + " ago"
}

// clipTable keeps whole lines of table up to limit bytes and says how
// many were left out.
func clipTable(table string, limit int) string {
	if len(table) <= limit {
		return table
	}
	lines := strings.SplitAfter(table, "\n")
	var b strings.Builder
	kept := 0
	for _, l := range lines {
		if b.Len()+len(l) > limit {
			break
		}
		b.WriteString(l)
		kept++
	}
	left := len(lines) - kept
	if lines[len(lines)-1] == "" {
		left--
	}
	fmt.Fprintf(&b, "… %d more; `/incident slo <service>` shows one service\n", left)
	return b.String()
}

// ownSLOLine is Ooda's own SLO in one line.
func ownSLOLine(own OwnSLOFunc) string {
	spec := slo.DefaultOwnSpec()
	o, err := own()
	if err != nil {
		return fmt.Sprintf("Ooda's own SLO could not be measured: %s", mrkdwn.Escape(err.Error()))
	}
	spec = o.Spec
	goal := fmt.Sprintf("%s%% of /incident commands acknowledged within %s", strconv.FormatFloat(spec.Objective, 'f', -1, 64), spec.Threshold)
	if o.Total == 0 || math.IsNaN(o.Ratio) {
		return fmt.Sprintf("Ooda's own SLO (%s): no commands since start.", goal)
	}
	state := "met"
	if !o.Met() {
		state = "*missed*"
	}
	return fmt.Sprintf("Ooda's own SLO (%s): %s of %s since start, %s of its error budget left: %s.",
		goal, strconv.FormatFloat(o.Ratio*100, 'f', 2, 64)+"%", strconv.FormatFloat(o.Total, 'f', 0, 64), slo.FormatBudget(o.BudgetRemaining), state)
}
