package people_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ooda-sre/ooda/people"
)

func TestMemberIDs(t *testing.T) {
	tests := []struct {
		word string
		id   string // ParseMention's; "" when it names nobody
		isID bool   // IsMemberID(word)
	}{
		{"U0123ABCD", "", true},
		{"W0123ABCD", "", true},
		{"@U0123ABCD", "U0123ABCD", false},
		{"<@U0123ABCD>", "U0123ABCD", false},
		{"<@U0123ABCD|alice>", "U0123ABCD", false},
		{"u0123abcd", "", false},
		{"U1", "", false},
		{"@alice", "", false},
		{"<@U0123ABCD> and more", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			id, ok := people.ParseMention(tt.word)
			assert.Equal(t, tt.id, id)
			assert.Equal(t, tt.id != "", ok)
			assert.Equal(t, tt.isID, people.IsMemberID(tt.word))
		})
	}
	assert.Equal(t, []string{"U0ALICE", "U0BOB", "U0ALICE"}, people.Mentions("<@U0ALICE> asked <@U0BOB|bob> and <@U0ALICE|alice>; @U0CAROL typed"))
	assert.Nil(t, people.Mentions("nobody"))
}

func TestDecode(t *testing.T) {
	p, err := people.Decode("U0ALICE", []byte(`{"id":"U0ALICE","handle":"alice"}`))
	assert.NoError(t, err)
	assert.Equal(t, "alice", p.Handle)
	_, err = people.Decode("U0ALICE", []byte(`{"id":"U0BOB"}`))
	assert.ErrorContains(t, err, `person U0ALICE: the record names "U0BOB"`)
	_, err = people.Decode("U0ALICE", []byte(`{`))
	assert.ErrorContains(t, err, "person U0ALICE:")
}
