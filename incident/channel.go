package incident

import (
	"strconv"
	"strings"
)

// MaxChannelName is Slack's limit on a channel name.
const MaxChannelName = 80

// ChannelName is the incident channel's name: "inc-<n>-<slug of title>",
// lowercase ASCII letters, digits, hyphens and underscores, at most 80
// characters, as Slack requires. Anything else in the title becomes a
// hyphen, runs of hyphens collapse, and the slug is cut at a word boundary
// where it can be.
func ChannelName(number uint64, title string) string {
	prefix := "inc-" + strconv.FormatUint(number, 10)
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
			hyphen = false
		default:
			if !hyphen && b.Len() > 0 {
				b.WriteByte('-')
				hyphen = true
			}
		}
	}
	slug := strings.Trim(b.String(), "-")
	room := MaxChannelName - len(prefix) - 1
	if len(slug) > room {
		slug = slug[:room]
		if i := strings.LastIndexByte(slug, '-'); i > room/2 {
			slug = slug[:i]
		}
		slug = strings.Trim(slug, "-")
	}
	if slug == "" {
		return prefix
	}
	return prefix + "-" + slug
}
