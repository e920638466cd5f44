package timeline

// DescribeNames is Describe with every user id the event names passed
// through name, the way WriteText resolves them; an id name does not know
// (an empty answer), or a nil name, shows as the id. A web page or any
// other renderer that shows people by name uses it.
func DescribeNames(e Event, name func(id string) string) string {
	return string(appendDescription(make([]byte, 0, 64+len(e.Text)), &e, orID(name)))
}

// DescribeEntry is DescribeNames without the marks a correction leaves on
// an entry's sentence — " (amended)", " (written 14:10 UTC)", " (struck by
// U1: reason)" — for a renderer that shows them its own way (a struck
// entry crossed out, an amendment beside its earlier text). The event's
// attributes still say which marks apply (AttrAmended, AttrWrittenAt,
// Event.Struck).
func DescribeEntry(e Event, name func(id string) string) string {
	if e.Kind == KindLoopEntry && hasMarks(e.Attrs) {
		attrs := make(map[string]string, len(e.Attrs))
		for k, v := range e.Attrs {
			switch k {
			case AttrAmended, AttrWrittenAt, AttrStruck, AttrStruckBy, AttrReason:
			default:
				attrs[k] = v
			}
		}
		e.Attrs = attrs
	}
	return DescribeNames(e, name)
}

func hasMarks(attrs map[string]string) bool {
	for _, k := range [...]string{AttrAmended, AttrWrittenAt, AttrStruck} {
		if attrs[k] != "" {
			return true
		}
	}
	return false
}

// orID wraps name so an unknown id shows as itself.
func orID(name func(string) string) func(string) string {
	if name == nil {
		return nil
	}
	return func(id string) string {
		if id == "" {
			return id
		}
		if n := name(id); n != "" {
			return n
		}
		return id
	}
}
