package postmortem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// JSON encodes the draft with the fields documented on Doc, in their
// declaration order, indented, with a final newline.
func (d Doc) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("post-mortem json: %w", err)
	}
	return append(b, '\n'), nil
}

// The formats Render knows.
const (
	FormatMarkdown = "md"
	FormatHTML     = "html"
	FormatJSON     = "json"
)

// Formats lists the formats Render knows, in the order help texts show them.
func Formats() []string { return []string{FormatMarkdown, FormatHTML, FormatJSON} }

// ErrFormat is returned, wrapped, for a format Render does not know.
var ErrFormat = errors.New("unknown post-mortem format")

// CheckFormat returns an error wrapping ErrFormat, worded for the person
// who chose the format, unless Render knows it.
func CheckFormat(format string) error {
	switch format {
	case FormatMarkdown, FormatHTML, FormatJSON:
		return nil
	}
	return fmt.Errorf("%w %q: use %s", ErrFormat, format, strings.Join(Formats(), ", "))
}

// Render renders doc in format (md, html or json) and returns it with its
// HTTP content type.
func Render(doc Doc, format string) ([]byte, string, error) {
	if err := CheckFormat(format); err != nil {
		return nil, "", err
	}
	switch format {
	case FormatMarkdown:
		return doc.Markdown(), "text/markdown; charset=utf-8", nil
	case FormatHTML:
		return doc.HTML(), "text/html; charset=utf-8", nil
	}
	b, err := doc.JSON()
	if err != nil {
		return nil, "", err
	}
	return b, "application/json", nil
}

// Source is what Export reads an incident from; incident.Store is one.
type Source interface {
	Events(ctx context.Context, number uint64, from uint64) ([]timeline.Event, error)
}

var _ Source = incident.Store(nil)

// Export drafts incident n's post-mortem from src and renders it in
// format. It is the one path the CLI, the HTTP API and Slack share, so
// their exports agree. The format is checked before anything is read; an
// unknown incident returns src's error, which wraps incident.ErrNotFound.
func Export(ctx context.Context, src Source, n uint64, format string, opts Options) ([]byte, string, error) {
	if err := CheckFormat(format); err != nil {
		return nil, "", err
	}
	// One read: the state is the fold of the events read, so the summary
	// and the timeline cannot come from two moments of the incident.
	events, err := src.Events(ctx, n, 1)
	if err != nil {
		return nil, "", err
	}
	return Render(Draft(incident.Replay(events), events, opts), format)
}
