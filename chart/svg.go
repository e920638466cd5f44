package chart

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"
)

// errSVG reports SVG output of the plotting library that this package does
// not know how to make safe; it means the library changed its output.
var errSVG = errors.New("chart: unexpected svg from the plotting library")

// fontFamily is the font-family every text carries: the Liberation Sans
// the text was measured with, then fonts metric-compatible with it, so no
// font is fetched and the layout holds.
const fontFamily = "Liberation Sans, Arial, Helvetica, sans-serif"

// presentation lists the style properties gonum's SVG backend writes and
// whether each becomes a presentation attribute (true) or is dropped
// (false: font-variant, which the backend fills with a value SVG does not
// define).
var presentation = map[string]bool{
	"fill": true, "fill-opacity": true,
	"stroke": true, "stroke-opacity": true, "stroke-width": true,
	"stroke-dasharray": true, "stroke-dashoffset": true,
	"font-family": true, "font-size": true, "font-weight": true, "font-style": true,
	"font-variant": false,
}

var (
	viewBoxAttr = regexp.MustCompile(`viewBox="([0-9. ]+)"`)
	// styleAttr is the start of a style attribute; the backend puts a
	// space, or a newline and a tab, before it.
	styleAttr = regexp.MustCompile(`\sstyle="`)
)

// accessibleSVG rewrites the SVG document gonum wrote into one that can be
// inlined into an HTML page served with a strict Content-Security-Policy
// (style-src 'self'), which blocks style attributes on inline SVG but not
// presentation attributes:
//
//   - the XML prolog and generator comment go (an HTML page has its own);
//   - the root element is replaced: the viewBox is kept, width="100%" and
//     no height let the chart scale to its container (a 390-pixel phone),
//     and role="img" with aria-label, <title> and <desc> name and describe
//     it to screen readers;
//   - every style="a:b;c:d" attribute becomes a="b" c="d", and the font
//     family becomes fontFamily.
//
// The backend escapes text with html.EscapeString, so `style="` can only
// occur as an attribute. A style property not in presentation is an error
// rather than output a browser would drop.
func accessibleSVG(raw []byte, title, desc string) ([]byte, error) {
	start := bytes.Index(raw, []byte("<svg"))
	if start < 0 {
		return nil, fmt.Errorf("%w: no <svg> element", errSVG)
	}
	end := bytes.IndexByte(raw[start:], '>')
	if end < 0 {
		return nil, fmt.Errorf("%w: unterminated <svg> element", errSVG)
	}
	root, body := raw[start:start+end+1], raw[start+end+1:]
	m := viewBoxAttr.FindSubmatch(root)
	if m == nil {
		return nil, fmt.Errorf("%w: no viewBox", errSVG)
	}

	label := title
	if label == "" {
		label = "Chart"
	}
	var out bytes.Buffer
	out.Grow(len(body) + len(desc) + 512)
	fmt.Fprintf(&out, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="%s" width="100%%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="%s">`,
		m[1], html.EscapeString(label))
	fmt.Fprintf(&out, "\n<title>%s</title>\n<desc>%s</desc>", html.EscapeString(label), html.EscapeString(desc))

	for {
		loc := styleAttr.FindIndex(body)
		if loc == nil {
			break
		}
		i := loc[0]
		const open = len(` style="`)
		j := bytes.IndexByte(body[i+open:], '"')
		if j < 0 {
			return nil, fmt.Errorf("%w: unterminated style attribute", errSVG)
		}
		out.Write(body[:i])
		decls := string(body[i+open : i+open+j])
		if err := writeAttributes(&out, decls); err != nil {
			return nil, err
		}
		body = body[i+open+j+1:]
	}
	out.Write(body)
	return out.Bytes(), nil
}

// writeAttributes writes the declarations of one style attribute as
// presentation attributes.
func writeAttributes(out *bytes.Buffer, decls string) error {
	for decl := range strings.SplitSeq(decls, ";") {
		name, value, ok := strings.Cut(decl, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			return fmt.Errorf("%w: style declaration %q", errSVG, decl)
		}
		keep, known := presentation[name]
		if !known {
			return fmt.Errorf("%w: style property %q", errSVG, name)
		}
		if !keep {
			continue
		}
		if name == "font-family" {
			value = fontFamily
		}
		fmt.Fprintf(out, ` %s="%s"`, name, html.EscapeString(value))
	}
	return nil
}
