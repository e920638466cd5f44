package signals

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
)

// ChartUploader uploads a file into a channel or a thread, the way
// slack-go's client does (files.getUploadURLExternal, the bytes, then
// files.completeUploadExternal, which shares it). *slack.Client is one.
type ChartUploader interface {
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
}

var _ ChartUploader = (*slack.Client)(nil)

// ChartPNG draws the chart a page-level warning's thread gets: the SLO's
// error ratio over the last hours against its thresholds, as PNG. It
// fails when Prometheus cannot give the data.
type ChartPNG func(ctx context.Context, n slo.Notice) ([]byte, error)

// DefaultChartTimeout bounds the drawing of one chart (its range query
// through the Prometheus guard): a chart is worth less than a notice.
const DefaultChartTimeout = 10 * time.Second

// chartWanted reports whether n's notice gets a chart in its thread: a
// warning that reached page.
func chartWanted(n slo.Notice) bool {
	return n.Kind == slo.NoticeWarning && n.To == slo.LevelPage
}

// postChart uploads the chart of n into the thread of its notice, ts, once.
//
// An upload carries no message metadata, so its file name, unique to the
// notice's key, is what finds it again, as the post-mortem drafts' uploads
// are found: when the notice was not posted by this delivery (an earlier
// delivery posted it, and may have uploaded the chart too) and before any
// retry of an upload whose answer may have been lost, the thread is read
// for a file of that name before uploading.
//
// When Prometheus cannot give the data the chart is skipped and logged:
// the notice stands without it. A failed upload is returned, unless Slack
// refused it for good (a missing scope): the monitor then gives the notice
// again, whose post is found, and the upload is tried again.
func (d *SLODeliverer) postChart(ctx context.Context, n slo.Notice, key, ts string, posted bool) error {
	if d.cfg.Chart == nil || d.cfg.Files == nil || ts == "" || !chartWanted(n) {
		return nil
	}
	name := chartFileName(n, key)
	log := d.cfg.Logger.With(slog.String("slo", n.SLO), slog.String("file", name))
	sctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	find := func(ctx context.Context) (bool, error) {
		return findThreadFile(ctx, d.cfg.Slack, d.cfg.Channel, ts, name)
	}
	if !posted {
		var found bool
		err := d.cfg.Guard.Do(sctx, resilience.Op{Method: "conversations.replies", Idempotent: true}, func(ctx context.Context) error {
			var err error
			found, err = find(ctx)
			return err
		})
		if err != nil {
			return d.chartFailed(ctx, log, n, err)
		}
		if found {
			return nil
		}
	}

	cctx, ccancel := context.WithTimeout(ctx, d.cfg.ChartTimeout)
	png, err := d.cfg.Chart(cctx, n)
	ccancel()
	if err != nil {
		log.WarnContext(ctx, "SLO chart skipped: Prometheus did not give its data; the warning is posted without it", slog.Any("err", err))
		return nil
	}
	params := slack.UploadFileParameters{
		Reader: bytes.NewReader(png), FileSize: len(png), Filename: name,
		Title:           fmt.Sprintf("%s error ratio, last 6 hours", n.SLO),
		AltTxt:          fmt.Sprintf("Line chart of the error ratio of %s over the last 6 hours against its page and ticket thresholds.", n.SLO),
		InitialComment:  fmt.Sprintf("Error ratio of %s over the last 6 hours, against its page and ticket thresholds.", n.SLO),
		Channel:         d.cfg.Channel,
		ThreadTimestamp: ts,
	}
	err = d.cfg.Guard.Do(sctx, resilience.Op{Method: "files.upload", Idempotent: true}, func(ctx context.Context) error {
		if resilience.Attempt(ctx) > 1 {
			// The previous attempt may have shared the file with its
			// answer lost.
			found, err := find(ctx)
			if err != nil || found {
				return err
			}
		}
		params.Reader = bytes.NewReader(png)
		_, err := d.cfg.Files.UploadFileContext(ctx, params)
		return err
	})
	if err != nil {
		return d.chartFailed(ctx, log, n, err)
	}
	return nil
}

// chartFailed logs a permanent failure, which no later delivery would
// mend, and returns any other.
func (d *SLODeliverer) chartFailed(ctx context.Context, log *slog.Logger, n slo.Notice, err error) error {
	if errors.Is(err, resilience.ErrPermanent) || d.cfg.Guard.Classify(err) == resilience.ClassPermanent {
		log.WarnContext(ctx, "SLO chart not uploaded: Slack refused it; the warning is posted without it", slog.Any("err", err))
		return nil
	}
	return fmt.Errorf("upload the chart of %s: %w", n.SLO, err)
}

// findThreadFile looks for a file named name among the replies in thread.
func findThreadFile(ctx context.Context, api slackapi.SignalSlack, channel, thread, name string) (bool, error) {
	params := &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: thread, Limit: slackapi.HistoryPage}
	for range slackapi.HistoryMaxPages {
		msgs, more, next, err := api.GetConversationRepliesContext(ctx, params)
		if err != nil {
			return false, err
		}
		for _, m := range msgs {
			for _, f := range m.Files {
				if f.Name == name {
					return true, nil
				}
			}
		}
		if !more || next == "" {
			return false, nil
		}
		params.Cursor = next
	}
	return false, fmt.Errorf("%w: thread %s", slackapi.ErrHistoryIncomplete, thread)
}

// chartFileName names n's chart after its SLO and the notice's key, which
// makes it unique to the notice: slo-checkout-availability-3f2a9c1d7e5b.png.
func chartFileName(n slo.Notice, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "slo-" + fileSafe(n.SLO) + "-" + hex.EncodeToString(sum[:6]) + ".png"
}

// fileSafe keeps the letters and digits of s, lowercased, and turns
// anything else into single dashes.
func fileSafe(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
