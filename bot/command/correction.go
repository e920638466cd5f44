package command

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// Corrections: `amend #12 [--at TIME] <new text>`, `strike #12 [reason]`,
// and `--at TIME` on the loop entries and notes (incident/correction.go
// decides who may, and what).

// entryOptions reads the options a loop entry or note may start with, in
// any order: `--cause` (orient only) and `--at TIME` (or `--at=TIME`). It
// returns the arguments after them.
func entryOptions(c *Command, args []string) ([]string, error) {
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "--cause" && c.Verb == VerbOrient && !c.Cause:
			c.Cause = true
			args = args[1:]
		case (a == "--at" || strings.HasPrefix(a, "--at=")) && c.At.IsZero():
			rest, err := parseAt(c, args)
			if err != nil {
				return args, err
			}
			args = rest
		default:
			return args, nil
		}
	}
	return args, nil
}

// parseAt reads `--at TIME` or `--at=TIME` at the start of args into c.At.
func parseAt(c *Command, args []string) ([]string, error) {
	v, ok := strings.CutPrefix(args[0], "--at=")
	n := 1
	if !ok {
		if len(args) < 2 {
			return args, usagef("--at needs a time: `--at 14:02` (UTC) or `--at -5m`: %s", VerbUsage(c.Verb))
		}
		v, n = args[1], 2
	}
	w, err := incident.ParseWhen(v)
	if err != nil {
		return args, usagef("%s", err.Error())
	}
	c.At = w
	return args[n:], nil
}

// parseCorrection reads what follows `amend` or `strike`: the incident
// (INC-7 only: `#12` is the entry, as `/incident timeline` shows it), the
// entry, then `--at TIME` and the new text (amend) or the reason (strike).
// text is the whole command and skip the number of its words before args,
// so the text keeps the user's spacing and line breaks.
func parseCorrection(c Command, text string, args []string, skip int) (Command, error) {
	i := 0
	if len(args) > 0 && len(args[0]) > 4 && strings.EqualFold(args[0][:4], "inc-") {
		n, err := incident.ParseID(args[0])
		if err != nil {
			return c, usagef("%s is not an incident number; write it as INC-7", echo(args[0]))
		}
		c.Incident, i = n, 1
	}
	if i >= len(args) {
		return c, usagef("say which entry, by the number `/incident timeline` shows: %s", VerbUsage(c.Verb))
	}
	seq, ok := parseEntry(args[i])
	if !ok {
		return c, usagef("%s is not an entry number; `/incident timeline` shows each entry's number, such as #12: %s", echo(args[i]), VerbUsage(c.Verb))
	}
	c.Entry = seq
	i++
	if c.Incident == 0 && i < len(args) {
		if _, twice := parseEntry(args[i]); twice && strings.HasPrefix(args[i], "#") {
			return c, usagef("name the incident as INC-7 and the entry as #12: `/incident %s INC-7 #12 …`", c.Verb)
		}
	}
	if c.Verb == VerbAmend && i < len(args) && (args[i] == "--at" || strings.HasPrefix(args[i], "--at=")) {
		rest, err := parseAt(&c, args[i:])
		if err != nil {
			return c, err
		}
		i = len(args) - len(rest)
	}
	c.Text = restAfter(text, skip+i)
	if c.Verb == VerbAmend && c.Text == "" && c.At.IsZero() {
		return c, usagef("write the new text after the entry number: `/incident amend #%d <new text>`, or a new time: `/incident amend #%d --at 14:02`", c.Entry, c.Entry)
	}
	return c, nil
}

// parseEntry reads an entry number: "#12" or "12".
func parseEntry(s string) (uint64, bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 10, 64)
	return n, err == nil && n > 0 && s != "#"
}

// correct runs amend and strike. The entry they name is read first: an
// event never changes once written, so reading it outside the transaction
// is safe, and what may have changed since (a strike, an amendment, who is
// Commander) is decided on the state inside it. An entry that does not
// exist is decided there too, after the access rule, so a private
// incident's entries say nothing to someone who may not see it.
func (d *Dispatcher) correct(ctx context.Context, req Request, n uint64, cmd Command) Reply {
	var entry *timeline.Event
	e, err := d.Store.Event(ctx, n, cmd.Entry)
	switch {
	case err == nil:
		entry = &e
	case !errors.Is(err, incident.ErrNotFound):
		return d.Failed(ctx, n, err)
	}
	meta := req.meta()
	res, err := d.Store.Apply(ctx, n, req.Key, func(inc *incident.Incident) (incident.Change, error) {
		if !req.admits(*inc) {
			return incident.Change{}, incident.NotFound(n)
		}
		if cmd.Verb == VerbStrike {
			return inc.Strike(cmd.Entry, entry, cmd.Text, meta)
		}
		return inc.Amend(cmd.Entry, entry, cmd.Text, cmd.At, meta)
	})
	if err != nil {
		return d.Failed(ctx, n, err)
	}
	if reply, bad := req.reused(res); bad {
		return reply
	}
	return d.committed(res, correctionText(res))
}

// correctionText confirms an amendment or a strike from the event it
// recorded, so a replayed request says what the first one did.
func correctionText(res incident.Result) string {
	id := res.Incident.ID
	if len(res.Events) == 0 {
		return id + ": recorded."
	}
	e := res.Events[0]
	n := "#" + e.Attr(timeline.AttrEntry)
	if e.Kind == timeline.KindEntryStruck {
		return fmt.Sprintf("%s: %s struck. The timeline and the post-mortem leave it out; the record keeps what it said (%s), and the post-mortem's Corrections say who struck it and when.",
			id, n, mrkdwn.Quote(e.Attr(timeline.AttrPrevious)))
	}
	var what []string
	if e.Text != "" {
		what = append(what, "it now reads "+mrkdwn.Quote(e.Text)+" (was "+mrkdwn.Quote(e.Attr(timeline.AttrPrevious))+")")
	}
	if at := e.Attr(timeline.AttrAt); at != "" {
		now, was := clocks(at, e.Attr(timeline.AttrPreviousAt))
		what = append(what, "it is dated "+now+" (was "+was+")")
	}
	return fmt.Sprintf("%s: %s amended: %s. The record keeps the original, and the post-mortem's Corrections list the change.",
		id, n, strings.Join(what, "; "))
}

// entryText confirms a loop entry or note; a backdated one says its
// number, the time it carries and when it was written.
func entryText(res incident.Result, cmd Command) string {
	id := res.Incident.ID
	if cmd.At.IsZero() || len(res.Events) == 0 {
		return fmt.Sprintf("%s: recorded (%s).", id, cmd.Verb)
	}
	e := res.Events[0]
	dated, written := clocks(timeline.FormatTime(e.At), e.Attr(timeline.AttrWrittenAt))
	return fmt.Sprintf("%s: recorded (%s) as #%d, dated %s (written %s).", id, cmd.Verb, e.Seq, dated, written)
}

// clocks renders two times of a reply to the minute, with their dates
// when they fall on different UTC days: "14:02 UTC", "Wed 25 Nov 23:58 UTC".
func clocks(a, b string) (string, string) {
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	if errA != nil || errB != nil {
		return a, b
	}
	ta, tb = ta.UTC(), tb.UTC()
	layout := "15:04 UTC"
	if ta.Format(time.DateOnly) != tb.Format(time.DateOnly) {
		layout = "Mon 2 Jan 15:04 UTC"
	}
	return ta.Format(layout), tb.Format(layout)
}

// entryLine is one entry of `/incident timeline`: its number when people
// may correct it, its phase, who wrote it and what it says; a struck entry
// is shown struck through, with who struck it and why.
func entryLine(e timeline.Event) string {
	phase := ""
	if e.Phase != timeline.PhaseNone {
		phase = "_" + string(e.Phase) + "_ "
	}
	if e.Struck() {
		s := fmt.Sprintf("%s%s: ~%s~ — struck by %s", phase, mrkdwn.Mention(e.Actor), mrkdwn.Escape(e.Text), mrkdwn.Mention(e.Attr(timeline.AttrStruckBy)))
		if r := e.Attr(timeline.AttrReason); r != "" {
			s += ": " + mrkdwn.Escape(r)
		}
		return s
	}
	num := ""
	if timeline.Correctable(e) {
		num = "#" + strconv.FormatUint(e.Seq, 10) + " "
	}
	return fmt.Sprintf("%s%s%s: %s", num, phase, mrkdwn.Mention(e.Actor), mrkdwn.Escape(timeline.Describe(e)))
}

// timelineFooter says what the entry numbers are for, when any is shown.
func timelineFooter(v timeline.View) string {
	for _, m := range v.Minutes {
		for _, e := range m.Events {
			if timeline.Correctable(e) && !e.Struck() {
				return "\n_Correct an entry by its number: `/incident amend #12 <new text>`, `/incident strike #12 [reason]`._"
			}
		}
	}
	return ""
}
