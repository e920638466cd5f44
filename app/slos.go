package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ooda-sre/ooda/jobs"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/storage"
)

// buildSLOs loads the SLO files, if any, and builds the evaluator over
// Prometheus (through its guard) and the monitor that keeps each SLO's
// state in db. The config check made sure prometheus_url is set with them.
// A file or an SLO with problems is reported and left out; the others are
// served (one bad file never silences the rest), and ReloadSLOs reads the
// files again.
func (a *App) buildSLOs(db storage.Store) error {
	if len(a.cfg.SLOFiles) == 0 {
		return nil
	}
	set := a.readSLOFiles()
	papi, err := prom.NewPrometheusAPI(a.cfg.PrometheusURL, a.guards.Prometheus)
	if err != nil {
		return fmt.Errorf("prometheus_url: %w", err)
	}
	if a.evaluator, err = prom.NewEvaluator(prom.Config{API: papi, Guard: a.guards.Prometheus, Period: a.cfg.sloPeriod(), Logger: a.logger}); err != nil {
		return err
	}
	a.budget = jobs.IncidentBudget{SLOs: a.evaluator}
	if a.monitor, err = prom.NewMonitor(prom.MonitorConfig{Evaluator: a.evaluator, Store: db}); err != nil {
		return err
	}
	if err := a.monitor.Load(set); err != nil {
		return fmt.Errorf("SLO files: %w", err)
	}
	a.dispatcher.SLO = a.monitor
	a.sloRefresh = make(chan struct{}, 1)
	if err := a.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ooda_slo_config_errors",
		Help: "SLOs Ooda cannot evaluate because of their files: problems found when the SLO files were (re)loaded, and SLOs whose queries Prometheus refused at the latest evaluation.",
	}, func() float64 { return float64(len(a.sloConfigErrors())) })); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if err := a.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ooda_slos_loaded",
		Help: "SLOs read from the SLO files and evaluated.",
	}, func() float64 { return float64(len(a.evaluator.SLOs())) })); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// readSLOFiles reads the configured SLO files and logs what is wrong with
// them, once per reading.
func (a *App) readSLOFiles() slo.Set {
	set := slo.Load(a.cfg.SLOFiles, a.cfg.sloPeriod())
	for _, w := range set.Warnings() {
		a.logger.Warn("SLO file: " + w.String())
	}
	for _, p := range set.Problems() {
		a.logger.Error("SLO file: "+p.Error(), "consequence", "left out: not evaluated until the file is corrected and reloaded (SIGHUP)")
	}
	return set
}

// sloDeliverMargin is the time an SLO tick has, past the evaluation's own
// limit, to deliver what changed.
const sloDeliverMargin = time.Minute

// errNoSLOFiles is ReloadSLOs' answer when no SLO files are configured.
var errNoSLOFiles = errors.New("no SLO files are configured (slo_files, OODA_SLO_FILES): nothing to reload; they are read at start-up")

// ReloadSLOs reads the SLO files again and watches the SLOs they now hold:
// a corrected file is picked up, and a changed or removed one too, without
// a restart. What is wrong with them is logged and reported as before. The
// leader evaluates the new SLOs at once. Serve calls it on SIGHUP.
func (a *App) ReloadSLOs() (slo.Set, error) {
	if a.monitor == nil {
		return slo.Set{}, errNoSLOFiles
	}
	set := a.readSLOFiles()
	if err := a.monitor.Load(set); err != nil {
		return set, fmt.Errorf("reload SLO files: %w", err)
	}
	a.logger.Info("SLO files reloaded", "slos", len(set.SLOs), "problems", len(set.Problems()))
	select {
	case a.sloRefresh <- struct{}{}:
	default: // an evaluation is already asked for
	}
	return set, nil
}

// sloConfigErrors are the SLO configuration errors GET /api/v1/status and
// the metric report: the problems of the latest (re)load, and the SLOs
// whose queries Prometheus refused at the latest evaluation.
func (a *App) sloConfigErrors() []string {
	if a.monitor == nil {
		return nil
	}
	snap := a.monitor.Last()
	var out []string
	for _, p := range snap.Problems {
		out = append(out, p.Error())
	}
	for _, r := range snap.Report.ConfigErrors() {
		out = append(out, fmt.Sprintf("slo %s: %v", r.SLO, r.Err))
	}
	return out
}

// sloReloader re-reads the SLO files each time reload delivers (SIGHUP
// through Serve), until ctx ends. Every replica reloads: each serves
// /incident slo from its own copy of the SLOs.
func (a *App) sloReloader(reload <-chan os.Signal) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-reload:
				if _, err := a.ReloadSLOs(); err != nil {
					a.logger.Warn("SIGHUP: SLO files not reloaded", "err", err)
				}
			}
		}
	}
}

// sloRefresher evaluates the SLOs as soon as a reload asks, rather than
// at the next minute's tick. It runs where the SLO job runs: on the
// leader.
func (a *App) sloRefresher(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.sloRefresh:
			tctx, cancel := context.WithTimeout(ctx, prom.DefaultTimeout+sloDeliverMargin)
			_, err := a.monitor.Tick(tctx, time.Now(), a.sloDeliver.Deliver)
			cancel()
			if err != nil && ctx.Err() == nil {
				a.logger.Warn("SLO evaluation after a reload failed; the minute's tick tries again", "err", err)
			}
		}
	}
}
