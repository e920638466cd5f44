package command

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/ooda-sre/ooda/people"
)

// BenchmarkResolvePeople is what naming a person costs a command before it
// reaches the store: nothing for a command that names nobody by name, a
// lookup in a directory of 10,000 people for one that does. It reports
// ns/op and allocations; figures are reported, never asserted.
func BenchmarkResolvePeople(b *testing.B) {
	ps := make([]people.Person, 10000)
	for i := range ps {
		// Real names are mixed case, as profiles hold them.
		ps[i] = people.Person{ID: fmt.Sprintf("U%08d", i), Handle: "user" + strconv.Itoa(i), DisplayName: "user" + strconv.Itoa(i), RealName: "User Number " + strconv.Itoa(i)}
	}
	d := &Dispatcher{People: people.NewDirectory(ps)}
	for _, tc := range []struct {
		name, text string
		refused    bool
	}{
		{"note", "note INC-1 step 3 of the rollback", false},
		{"owner=member-id", "action INC-1 step 3 of the rollback <@U00005000|user5000> P2", false},
		{"owner=name", "action INC-1 step 3 of the rollback @user5000 P2", false},
		// A typo: nobody has the name, so it is looked for inside everyone's.
		{"owner=unknown", "action INC-1 step 3 of the rollback @zoe P2", true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			parsed, err := ParseCommand(tc.text)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				cmd := parsed
				if _, refused := d.resolvePeople(&cmd); refused != tc.refused {
					b.Fatalf("refused = %v, want %v", refused, tc.refused)
				}
			}
		})
	}
}
