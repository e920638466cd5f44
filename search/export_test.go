package search

// Dump is the index in canonical form (dump), for the tests that compare
// two indexes.
func Dump(x *Index) string { return x.dump() }
