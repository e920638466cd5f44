package slo

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// fieldProblem is a key or a value of an SLO file that does not fit its
// format, where it is: path is the YAML path from the node decoded
// (objective, sli.events.error_query).
type fieldProblem struct {
	line    int
	path    string
	problem string
}

// fieldDecoder decodes a YAML node into one of the format structs of this
// package. It checks every key and every value itself rather than leave
// it to yaml's decoder, whose errors name Go types ("field x not found in
// type slo.specSLO", "cannot unmarshal !!str into float64"): each problem
// is said in the words of the file, with the fields accepted there and, for
// a near miss such as page_alert in a format that spells it pageAlert, the
// right spelling.
//
// A struct field is named by its yaml tag, or by the tag named tag when the
// decoder has one and the field carries it (the Kubernetes form spells
// Sloth's fields in camelCase); "-" leaves the field out of the format. A
// yaml.Node field takes its value as it is, unchecked: parts of a format
// Ooda reads nothing from (plugin configuration, Kubernetes metadata).
type fieldDecoder struct {
	format Format
	tag    string
	// problems gathers what decode found, in file order.
	problems []fieldProblem
	// respelt are fields written in the other Sloth form's spelling
	// (pageAlert in a prometheus/v1 file, page_alert in a Kubernetes
	// one), read as the field they name.
	respelt []fieldProblem
}

func (d *fieldDecoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.problems = append(d.problems, fieldProblem{line: n.Line, path: path, problem: fmt.Sprintf(format, args...)})
}

// decode sets v (a pointer) from n; path names n in messages ("" for the
// root).
func (d *fieldDecoder) decode(n *yaml.Node, v any, path string) {
	d.value(n, reflect.ValueOf(v).Elem(), path)
}

var nodeType = reflect.TypeFor[yaml.Node]()

func (d *fieldDecoder) value(n *yaml.Node, v reflect.Value, path string) {
	n = resolve(n)
	if v.Type() == nodeType {
		v.Set(reflect.ValueOf(*n))
		return
	}
	if isNull(n) {
		return // an empty value leaves the zero value: "labels:" alone
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.value(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.mapping(n, v, path)
	case reflect.Map:
		d.stringMap(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "want a list (lines starting with -), not %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "want a single value, not %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Float64:
		f, err := strconv.ParseFloat(scalar(n), 64)
		if err != nil {
			d.fail(n, path, "%s is not a number", quoteValue(n))
			return
		}
		v.SetFloat(f)
	case reflect.Int:
		i, err := strconv.Atoi(scalar(n))
		if err != nil {
			d.fail(n, path, "%s is not a whole number", quoteValue(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.ToLower(scalar(n)))
		if err != nil {
			d.fail(n, path, "%s: want true or false", quoteValue(n))
			return
		}
		v.SetBool(b)
	default:
		// A format struct with a field of another kind is a bug here,
		// not in the file.
		panic(fmt.Sprintf("slo: fieldDecoder cannot set a %s", v.Type()))
	}
}

// mapping decodes a YAML mapping into struct v, refusing keys the struct
// does not name.
func (d *fieldDecoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want fields (name: value lines), not %s", describe(n))
		return
	}
	names := d.fieldNames(v.Type())
	seen := map[int]string{}
	for key, val := range pairs(n) {
		name := key.Value
		child := join(path, name)
		i, ok := names[name]
		if !ok {
			if i, ok = d.respelling(name, names); ok {
				d.respelt = append(d.respelt, fieldProblem{line: key.Line, path: child, problem: fmt.Sprintf(
					"read as %s, as the %s format spells it (Sloth itself would ignore %s, and everything under it)", d.nameOf(v.Type().Field(i)), d.format, name)})
			}
		}
		if !ok {
			d.fail(key, child, "%s", d.unknownField(name, names))
			continue
		}
		if first, dup := seen[i]; dup {
			d.fail(key, child, "appears twice (as %s and %s); keep one", first, name)
			continue
		}
		seen[i] = name
		d.value(val, v.Field(i), child)
	}
}

// respelling finds the field name stands for when it is spelt the way
// Sloth's other form spells it: page_alert for pageAlert. Only the two
// Sloth forms share fields under two spellings.
func (d *fieldDecoder) respelling(name string, names map[string]int) (int, bool) {
	if d.format != FormatSloth && d.format != FormatKubernetes {
		return 0, false
	}
	for k, i := range names {
		if sameWord(k, name) {
			return i, true
		}
	}
	return 0, false
}

// nameOf is the name a struct field goes by in the file.
func (d *fieldDecoder) nameOf(f reflect.StructField) string {
	if d.tag != "" {
		if alt, ok := f.Tag.Lookup(d.tag); ok {
			return alt
		}
	}
	return f.Tag.Get("yaml")
}

// unknownField says why name is not a field here and what is.
func (d *fieldDecoder) unknownField(name string, names map[string]int) string {
	known := make([]string, 0, len(names))
	for k := range names {
		known = append(known, k)
	}
	slices.Sort(known)
	msg := "not a field of the " + string(d.format) + " format"
	for _, k := range known {
		if sameWord(k, name) {
			return msg + "; it is spelt " + k + " in this format"
		}
	}
	for _, k := range known {
		if editDistance(k, name) <= 2 {
			return msg + "; did you mean " + k + "?"
		}
	}
	return msg + "; the fields here are " + strings.Join(known, ", ")
}

// fieldNames maps the names a struct's fields go by in the file to their
// index.
func (d *fieldDecoder) fieldNames(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		if name := d.nameOf(t.Field(i)); name != "" && name != "-" {
			out[name] = i
		}
	}
	return out
}

// stringMap decodes a mapping of names to single values (labels,
// annotations).
func (d *fieldDecoder) stringMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want name: value lines, not %s", describe(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	for key, val := range pairs(n) {
		val = resolve(val)
		child := join(path, key.Value)
		if val.Kind != yaml.ScalarNode {
			d.fail(val, child, "want a single value, not %s", describe(val))
			continue
		}
		m.SetMapIndex(reflect.ValueOf(key.Value), reflect.ValueOf(val.Value))
	}
	v.Set(m)
}

// pairs yields a mapping's keys and values, those of merged mappings
// (<<: *anchor) first, as YAML 1.1 merges them.
func pairs(n *yaml.Node) func(yield func(key, val *yaml.Node) bool) {
	return func(yield func(key, val *yaml.Node) bool) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			if key.Tag == "!!merge" {
				for _, m := range mergeSources(val) {
					for k, v := range pairs(m) {
						if !yield(k, v) {
							return
						}
					}
				}
				continue
			}
			if !yield(key, val) {
				return
			}
		}
	}
}

func mergeSources(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		return []*yaml.Node{n}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, c := range n.Content {
			if c = resolve(c); c.Kind == yaml.MappingNode {
				out = append(out, c)
			}
		}
		return out
	}
	return nil
}

// resolve follows aliases (*anchor) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return resolve(n.Content[0])
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func scalar(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	return strings.TrimSpace(n.Value)
}

// describe names what a node holds, for "want a number, not a list".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "fields (name: value lines)"
	case yaml.SequenceNode:
		return "a list"
	}
	return quoteValue(n)
}

func quoteValue(n *yaml.Node) string {
	v := n.Value
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:40]) + "…"
	}
	return strconv.Quote(v)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// sameWord reports whether two field names differ only in case and
// separators: page_alert and pageAlert.
func sameWord(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s)) }
	return a != b && norm(a) == norm(b)
}

// editDistance is the Levenshtein distance between a and b, for typos.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
