package blockkit

// The people of the fake workspace, as the bot package's tests name them.
const (
	alice = "U0ALICE0001"
	bob   = "U0BOB000001"
	carol = "U0CAROL0001"
)
