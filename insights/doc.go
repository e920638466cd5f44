// Package insights computes how the team is doing over a range of days:
// incidents per week, the times to declare, mitigate, resolve and publish
// the post-mortem, the follow-up work owed, and the load the roles put on
// each responder. Every figure comes with its definition written out, so
// a page or a spreadsheet can print it beside the number.
//
// It is part of the domain: it reads incidents and their events, given to
// it, and performs no I/O. It imports only the domain packages (incident,
// timeline, roles) and never an adapter (bot, api, app, storage) or an I/O
// library; the layout test over `go list` holds it to that.
package insights
