// Package people holds the workspace's people as Ooda knows them: a
// Person (a Slack member ID with the names Slack gave it), how a person is
// shown ("Alice Chen (@alice)"), and the Directory that finds the person a
// typed @name means. Events keep member IDs; names are looked up when
// something is shown, so a renamed person reads under their current name.
//
// It does no I/O: adapters fetch people from Slack (bot/directory) and
// keep them in the store. It must never import bot, api, app, storage or
// any I/O library.
package people
