package search

import (
	"unicode"
	"unicode/utf8"
)

// eachToken calls fn with every token of s, in order: runs of Unicode
// letters and digits, lower-cased, of at least two characters, with a
// simple plural folded ("timeouts" → "timeout", "replicas" → "replica",
// "entries" → "entry"). The same folding applies to the text indexed and
// to the query, so either form finds the other. tok is reused between
// calls; fn copies it to keep it.
func eachToken(s string, buf []byte, fn func(tok []byte)) []byte {
	tok := buf[:0]
	runes := 0
	flush := func() {
		if runes >= 2 {
			fn(foldPlural(tok))
		}
		tok, runes = tok[:0], 0
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				tok = append(tok, c)
				runes++
			case 'A' <= c && c <= 'Z':
				tok = append(tok, c+'a'-'A')
				runes++
			default:
				flush()
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			tok = utf8.AppendRune(tok, unicode.ToLower(r))
			runes++
			continue
		}
		flush()
	}
	flush()
	return tok
}

// tokens returns the distinct tokens of s, in the order they first occur.
func tokens(s string) []string {
	var out []string
	eachToken(s, nil, func(tok []byte) {
		for _, t := range out {
			if t == string(tok) {
				return
			}
		}
		out = append(out, string(tok))
	})
	return out
}

// foldPlural strips the plural of an English noun in the simplest cases:
// -ies → -y, -s after anything but s, u or i (so "status", "redis",
// "class" stay). Tokens of three letters or fewer are left alone ("dns").
func foldPlural(t []byte) []byte {
	n := len(t)
	if n <= 3 || t[n-1] != 's' {
		return t
	}
	if n > 4 && t[n-3] == 'i' && t[n-2] == 'e' {
		t = append(t[:n-3], 'y')
		return t
	}
	switch t[n-2] {
	case 's', 'u', 'i':
		return t
	}
	return t[:n-1]
}

// isStopWord reports whether t is an English word too common to say two
// incidents are alike. Stop words are indexed and searchable; only
// Similar leaves them out. Words that mean something in an incident
// ("down", "up", "off", "out") are not stop words.
func isStopWord(t string) bool {
	switch t {
	case "about", "after", "again", "all", "also", "am", "an", "and", "any", "are",
		"as", "at", "be", "been", "before", "being", "but", "by", "can", "could",
		"did", "do", "does", "during", "each", "for", "from", "had", "has", "have",
		"he", "her", "his", "how", "if", "in", "into", "is", "it", "its", "just",
		"more", "most", "no", "not", "now", "of", "once", "only", "or", "other", "our",
		"she", "so", "some", "such", "than", "that", "the", "their", "them", "then",
		"there", "these", "they", "this", "those", "through", "to", "too", "until",
		"very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
		"why", "will", "with", "would", "you", "your":
		return true
	}
	return false
}
