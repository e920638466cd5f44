package people

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNoID refuses to keep a person without a member ID: the ID is what
// events hold, and what a store keys people by.
var ErrNoID = errors.New("a person needs their member ID")

// Decode reads the person a store kept as JSON under member ID id; a
// record that names another id is refused, as a key and its value that
// disagree mean the store was written wrong.
func Decode(id string, v []byte) (Person, error) {
	var p Person
	if err := json.Unmarshal(v, &p); err != nil {
		return Person{}, fmt.Errorf("person %s: %w", id, err)
	}
	if p.ID != id {
		return Person{}, fmt.Errorf("person %s: the record names %q", id, p.ID)
	}
	return p, nil
}
