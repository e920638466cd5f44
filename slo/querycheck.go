package slo

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"unicode/utf8"
)

// windowProbe stands for the window when checking that a query uses it.
const windowProbe = "ooda_window_probe"

// checkQuery checks what can be checked of a query without Prometheus:
// that it is a template Sloth would accept, that it uses {{.window}}
// (without it every window would measure the same thing), and that its
// brackets and quotes are balanced. The rest of PromQL's syntax is
// Prometheus's to judge: a query it refuses is reported as a
// configuration error of its SLO at the first evaluation (ErrBadQuery).
func checkQuery(q string) error {
	if strings.TrimSpace(q) == "" {
		return errors.New("missing; write a PromQL query with [{{.window}}] as its range")
	}
	out, err := renderQuery(q, windowProbe)
	if err != nil {
		return err
	}
	if !strings.Contains(out, windowProbe) {
		return errors.New("does not use {{.window}}; write the range as [{{.window}}]")
	}
	return checkBrackets(q)
}

// renderQuery puts window into a query template the way Sloth does.
func renderQuery(q, window string) (string, error) {
	t, err := template.New("query").Option("missingkey=error").Parse(q)
	if err != nil {
		return "", fmt.Errorf("not a valid template: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, map[string]string{"window": window}); err != nil {
		return "", fmt.Errorf("not a valid template: the only variable is {{.window}}: %w", err)
	}
	return b.String(), nil
}

// checkBrackets checks that the (), [] and {} of a PromQL query template
// pair up and that its strings end, the way PromQL's lexer reads them:
// "…" and '…' with backslash escapes, `…` raw, # comments to the end of
// the line. Template actions ({{.window}}) are skipped. Positions count
// characters from 1 within the query.
func checkBrackets(q string) error {
	type open struct {
		r   rune
		pos int
	}
	var stack []open
	closer := map[rune]rune{'(': ')', '[': ']', '{': '}'}
	opener := map[rune]rune{')': '(', ']': '[', '}': '{'}
	pos := 0
	for i := 0; i < len(q); {
		r, size := utf8.DecodeRuneInString(q[i:])
		pos++
		switch {
		case strings.HasPrefix(q[i:], "{{"):
			end := strings.Index(q[i:], "}}")
			if end < 0 {
				return fmt.Errorf("the template action {{ at position %d is never closed with }}", pos)
			}
			pos += utf8.RuneCountInString(q[i:i+end+2]) - 1
			i += end + 2
			continue
		case r == '#':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				end = len(q) - i
			}
			pos += utf8.RuneCountInString(q[i:i+end]) - 1
			i += end
			continue
		case r == '"' || r == '\'' || r == '`':
			start := pos
			j := i + size
			for {
				if j >= len(q) {
					return fmt.Errorf("the string opened with %c at position %d never ends; close it with %c", r, start, r)
				}
				c, n := utf8.DecodeRuneInString(q[j:])
				pos++
				j += n
				if c == '\\' && r != '`' && j < len(q) {
					_, n := utf8.DecodeRuneInString(q[j:])
					pos++
					j += n
					continue
				}
				if c == r {
					break
				}
				if c == '\n' && r != '`' {
					return fmt.Errorf("the string opened with %c at position %d never ends on its line; close it with %c", r, start, r)
				}
			}
			i = j
			continue
		case closer[r] != 0:
			stack = append(stack, open{r, pos})
		case opener[r] != 0:
			if len(stack) == 0 {
				return fmt.Errorf("the %c at position %d closes nothing; check the query's brackets", r, pos)
			}
			top := stack[len(stack)-1]
			if top.r != opener[r] {
				return fmt.Errorf("the %c at position %d is closed by the %c at position %d; want %c", top.r, top.pos, r, pos, closer[top.r])
			}
			stack = stack[:len(stack)-1]
		}
		i += size
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return fmt.Errorf("the %c at position %d is never closed; add %c", top.r, top.pos, closer[top.r])
	}
	return nil
}

// sameQuery reports whether two queries are the same once their spacing
// is set aside: an error query equal to its total query makes every
// window a total outage.
func sameQuery(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}
