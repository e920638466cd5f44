package app

import (
	"context"
	"net/http"

	"github.com/ooda-sre/ooda/api/web"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/timeline"
)

// webCommands runs the web UI's command box through the dispatcher Slack
// and the API share: the signed-in person is the actor, as if they had
// typed the command in Slack.
type webCommands struct{ d *command.Dispatcher }

var _ web.Commands = webCommands{}

// Run parses the command and runs it about the page's incident unless it
// names another: in Slack the channel decides that, on the web the page
// does. (Handle would refuse a command naming another incident than the
// request's; on a page that is how people get to another incident.)
func (c webCommands) Run(ctx context.Context, req web.CommandRequest) web.CommandReply {
	cmd, err := command.ParseCommand(req.Text)
	if err != nil {
		return web.CommandReply{Text: err.Error(), Code: http.StatusBadRequest}
	}
	if cmd.Incident == 0 {
		cmd.Incident = req.Incident
	}
	reply := c.d.Run(ctx, command.Request{
		Text: req.Text, User: req.User, Incident: cmd.Incident,
		// A person typed a command: its entries read as theirs, and
		// amend and strike correct them as they do Slack's.
		Source: timeline.SourceCommand, Key: req.Key, At: req.At,
	}, cmd)
	if reply.OpenDeclareForm {
		// Slack opens the declare form here; a page has no form to open.
		return web.CommandReply{Code: http.StatusBadRequest, Text: "declare needs a title: " + command.VerbUsage(command.VerbDeclare)}
	}
	return web.CommandReply{Text: reply.Text, Incident: reply.Incident, Code: reply.Code}
}
