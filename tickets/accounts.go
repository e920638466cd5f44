package tickets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Account is one person's entry in the accounts file: who they are in
// Slack (a member id, an email, or both) and their account in each kind
// of tracker.
type Account struct {
	Slack  string `yaml:"slack"`
	Email  string `yaml:"email"`
	GitHub string `yaml:"github"` // a login
	GitLab string `yaml:"gitlab"` // a user id
	Jira   string `yaml:"jira"`   // an accountId (Cloud) or a user name (Data Center)
}

// of returns the account for trackers of kind.
func (a Account) of(kind string) string {
	switch kind {
	case KindGitHub:
		return a.GitHub
	case KindGitLab:
		return a.GitLab
	case KindJira:
		return a.Jira
	}
	return ""
}

// AccountMap maps people to tracker accounts, from the accounts file. The
// zero value and nil map nobody.
type AccountMap struct {
	bySlack map[string]Account
	byEmail map[string]Account // by lower-case email
}

// LoadAccounts reads the accounts file at path; "" maps nobody.
func LoadAccounts(path string) (*AccountMap, error) {
	if path == "" {
		return &AccountMap{}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tickets: accounts_file: %w", err)
	}
	a, err := ParseAccounts(b)
	if err != nil {
		return nil, fmt.Errorf("tickets: accounts_file %s: %w", path, err)
	}
	return a, nil
}

// ParseAccounts reads an accounts file: a YAML list of entries, each with
// slack (a member id) or email or both, and github, gitlab or jira. It
// reports every bad entry at once.
func ParseAccounts(data []byte) (*AccountMap, error) {
	var list []Account
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&list); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("want a list of entries such as - {slack: U0123ABCD, github: alice}: %w", err)
	}
	a := &AccountMap{bySlack: map[string]Account{}, byEmail: map[string]Account{}}
	var errs []error
	for i, e := range list {
		e.Slack, e.Email = strings.TrimSpace(e.Slack), strings.TrimSpace(e.Email)
		switch {
		case e.Slack == "" && e.Email == "":
			errs = append(errs, fmt.Errorf("entry %d: say whose accounts these are with slack: (a member id such as U0123ABCD) or email:", i+1))
			continue
		case e.GitHub == "" && e.GitLab == "" && e.Jira == "":
			errs = append(errs, fmt.Errorf("entry %d: no tracker account; add github:, gitlab: or jira:", i+1))
			continue
		case e.Email != "" && !strings.Contains(e.Email, "@"):
			errs = append(errs, fmt.Errorf("entry %d: email %q is not an address", i+1, e.Email))
			continue
		}
		if e.Slack != "" {
			if _, dup := a.bySlack[e.Slack]; dup {
				errs = append(errs, fmt.Errorf("entry %d: slack %s has an entry already; merge the two", i+1, e.Slack))
				continue
			}
			a.bySlack[e.Slack] = e
		}
		if e.Email != "" {
			k := strings.ToLower(e.Email)
			if _, dup := a.byEmail[k]; dup {
				errs = append(errs, fmt.Errorf("entry %d: email %s has an entry already; merge the two", i+1, e.Email))
				continue
			}
			a.byEmail[k] = e
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return a, nil
}

// Lookup returns the account of the person with Slack member id slackID
// or email in trackers of kind: by member id first, then by email (in any
// case); "" when the file maps neither.
func (a *AccountMap) Lookup(kind, slackID, email string) string {
	if a == nil {
		return ""
	}
	if e, ok := a.bySlack[slackID]; ok && slackID != "" {
		if acc := e.of(kind); acc != "" {
			return acc
		}
	}
	if e, ok := a.byEmail[strings.ToLower(strings.TrimSpace(email))]; ok && email != "" {
		return e.of(kind)
	}
	return ""
}

// Len is how many people the file maps.
func (a *AccountMap) Len() int {
	if a == nil {
		return 0
	}
	n := len(a.bySlack)
	for _, e := range a.byEmail {
		if e.Slack == "" {
			n++
		}
	}
	return n
}
