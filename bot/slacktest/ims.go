package slacktest

// The bot's direct messages. chat.postMessage to a member's user id posts
// in the conversation between the app and that member (an "im", with a D…
// id), opened on the first message as Slack opens it for an app with
// chat:write; the answer names the im, and chat.update takes its id. Ims
// are kept apart from the channels: Channels and conversations.list do not
// show them.

// im returns the bot's im with the member user, opening it; nil when the
// workspace has no such member. s.mu must be held.
func (s *Server) im(user string) *channel {
	if c := s.ims[user]; c != nil {
		return c
	}
	if s.users[user] == nil {
		return nil
	}
	if s.ims == nil {
		s.ims = map[string]*channel{}
	}
	c := &channel{id: s.newID("D"), private: true, created: s.now(), members: []string{s.cfg.botUserID, user}}
	s.ims[user] = c
	return c
}

// imByID finds an open im by its id. s.mu must be held.
func (s *Server) imByID(id string) *channel {
	for _, c := range s.ims {
		if c.id == id {
			return c
		}
	}
	return nil
}

// DirectMessages returns what the bot sent user in direct messages, in
// order.
func (s *Server) DirectMessages(user string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ims[user]
	if c == nil {
		return nil
	}
	out := make([]Message, len(c.messages))
	for i, m := range c.messages {
		out[i] = m.snapshot()
	}
	return out
}
