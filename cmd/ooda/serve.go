package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ooda-sre/ooda/bot"
	"github.com/ooda-sre/ooda/storage"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := loadConfig(fs, args, os.Getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{code: 2, err: fmt.Errorf("configuration: %w", err)}
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	return serve(ctx, cfg, logger, func(addr net.Addr) {
		fmt.Fprintf(stdout, "ooda %s listening on %s (slack: %s)\n", version, addr, cfg.slackMode())
	})
}

// serve runs the server until ctx is done. listening is told the bound
// address, which lets tests use port 0.
func serve(ctx context.Context, cfg config, logger *slog.Logger, listening func(net.Addr)) error {
	db, err := storage.Open(cfg.DB, storage.Options{})
	if err != nil {
		return err
	}
	defer db.Close()

	tokens, err := cfg.apiTokens()
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	dispatcher := &bot.Dispatcher{Store: db, Logger: logger}
	srv := bot.NewServer(bot.ServerConfig{
		Dispatcher: dispatcher,
		Store:      db,
		APIToken:   cfg.APIToken,
		APITokens:  tokens,
		Logger:     logger,
		Gatherer:   reg,
		Backup:     db.Backup,
	})
	if cfg.slackMode() == "off" {
		logger.Warn("Slack is not configured: serving the API only; set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (or SLACK_SIGNING_SECRET) to connect")
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if listening != nil {
		listening(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}
