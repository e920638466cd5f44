// Package postmortem turns an incident's events into the first draft of
// its blameless post-mortem, renders it as Markdown, standalone HTML or
// JSON, and checks text for language that blames people.
//
// Draft is pure: it reads only the incident and its events, never the
// clock or the network, so the same log always yields the same document.
// The document has the sections Sections lists, in that order, followed by
// a review note that carries the blameless check's findings; the findings
// are never written into the sections themselves.
//
// # JSON
//
// Doc.JSON encodes the Doc struct; every field's JSON name is in its tag
// and its meaning in its doc comment. Fields appear in declaration order,
// which is the order of the sections. Times are RFC 3339 in UTC and absent
// when unknown; durations are whole seconds (fields ending in _seconds)
// and null when unknown. Version changes when a field changes meaning or
// disappears; fields may be added without a change of version.
package postmortem
