package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/etcd/etcdtest"
	"github.com/ooda-sre/ooda/timeline"
)

// The failover test's stream: failoverCommands commands, one dispatched
// every failoverPace to failoverWorkers goroutines, so that it goes on
// through both elections (a lease of a few seconds each). Declarations
// are at the indexes of failoverDeclareAt (three before the stream, three
// in it: one just after the first kill, one near the second), post-mortem
// drafts (file uploads) at failoverPostmortemAt, notes everywhere else.
// The leader is killed once killFirstAfter commands were acknowledged;
// the second replica once a new leader was seen and killSecondAfter were.
const (
	failoverReplicas = 3
	failoverCommands = 150
	failoverWorkers  = 4
	failoverPace     = 150 * time.Millisecond
	killFirstAfter   = 40
	killSecondAfter  = 90
)

var (
	failoverDeclareAt    = map[int]int{0: 0, 1: 1, 2: 2, 48: 3, 58: 4, 92: 5} // stream index → incident slot
	failoverPostmortemAt = map[int]bool{30: true, 75: true, 120: true}
)

// Bounds that only catch hangs, generous for a loaded two-CPU machine;
// none of them is a measurement.
const (
	failoverCommandBound  = 60 * time.Second  // one command acknowledged, retries on survivors included
	failoverElectionBound = 45 * time.Second  // a new leader seen after a kill
	failoverLivenessBound = 60 * time.Second  // every effect performed once the stream ended
	failoverStreamBound   = 120 * time.Second // the whole stream
	failoverRetryPause    = 100 * time.Millisecond
	// stragglerGrace: a Slack call arriving this soon after a SIGKILL may
	// have been sent by the killed replica (in a socket buffer when it
	// died). No replica can be elected that soon: the dead leader's lease
	// lives for seconds.
	stragglerGrace = 250 * time.Millisecond
)

// The Slack Web API methods that change the workspace: the effects. A
// call of one of them is an effect performed.
var slackWrites = map[string]bool{
	"conversations.create": true, "conversations.invite": true, "conversations.setTopic": true,
	"chat.postMessage": true, "chat.update": true, "pins.add": true, "bookmarks.add": true,
	"reactions.add": true, "files.getUploadURLExternal": true, "files.completeUploadExternal": true,
	slacktest.UploadMethod: true,
}

// TestFailoverKillsTheLeaderReplicaMidStream runs Ooda as it runs in
// production with several replicas, black-box: three `ooda serve`
// processes on a three-member etcd cluster (real etcd processes on
// loopback), Slack faked in the test process. Commands stream to all
// three, through the API (with idempotency keys) and as signed Slack
// slash commands (with trigger ids), while incidents run. The replica
// that leads (read from the status) is SIGKILLed mid-stream; once another
// leads, it is SIGKILLed too; the third serves on alone. A command that
// reached a killed replica is sent again, with the same key, to a
// survivor, as a load balancer and a retrying client would. Then:
//
//   - every command is acknowledged, and every acknowledged one is stored
//     exactly once (its key on one event, its note text once, in the
//     incident its answer named; one incident per declaration);
//   - every Slack effect happened exactly once: no channel created twice,
//     no message posted twice (the metadata keys Ooda marks its posts
//     with), no file uploaded twice;
//   - a new leader resumes the effects: within a generous bound every
//     incident has its channel, its kickoff and a post per note, the
//     outbox is empty and no effect failed;
//   - the surviving replicas acknowledged every command sent to them
//     during both failovers (none refused).
//
// The time from each SIGKILL to the new leader's first Slack effect is
// logged as a benchmark, never asserted.
func TestFailoverKillsTheLeaderReplicaMidStream(t *testing.T) {
	bin := buildOodaBinary(t)
	cluster := etcdtest.StartCluster(t, 3)

	const (
		botToken      = "xoxb-failover-test-token"
		signingSecret = "failover-signing-secret"
		apiToken      = "failover-admin-token-0123456789"
	)
	fake := slacktest.New(slacktest.WithToken(botToken))
	// Registered before the replicas are started, so it runs after they
	// are killed.
	t.Cleanup(fake.Close)
	users := []string{"U0FAILOVR1", "U0FAILOVR2", "U0FAILOVR3"}
	for i, u := range users {
		fake.AddUser(u, fmt.Sprintf("responder%d", i+1))
	}
	announce := fake.CreateChannel("incidents", false)
	general := fake.CreateChannel("general", false)
	seeded := map[string]bool{announce: true, general: true}

	client := newReplicaClient(t, apiToken, signingSecret)
	rs := startReplicas(t, bin, failoverReplicas, []string{
		"OODA_ETCD_ENDPOINTS=" + strings.Join(cluster.Endpoints(), ","),
		"OODA_ETCD_PREFIX=" + etcdtest.NewPrefix(),
		"SLACK_BOT_TOKEN=" + botToken,
		"SLACK_SIGNING_SECRET=" + signingSecret,
		"SLACK_API_URL=" + fake.URL(),
		"OODA_ANNOUNCE_CHANNEL=" + announce,
		"OODA_API_TOKEN=" + apiToken,
	}, client)
	names := map[string]int{}
	for _, r := range rs.members {
		names[r.name] = r.index
		st, err := client.status(r)
		if err != nil {
			t.Fatalf("replica %d's status: %v", r.index, err)
		}
		if st.Store == nil || st.Store.Backend != "etcd" || !st.Store.Healthy {
			t.Fatalf("replica %d's status does not report a healthy etcd store: %+v", r.index, st.Store)
		}
	}
	if len(names) != failoverReplicas {
		t.Fatalf("the replicas' names are not distinct: %v", names)
	}
	maxLeading := 0
	first, _, _ := rs.awaitLeader(failoverElectionBound, &maxLeading)
	t.Logf("replicas %v; replica %d (%s) leads", names, first, rs.members[first].name)

	f := &failoverRun{rs: rs, client: client, users: users, channel: general, fired: make(chan int, 1)}
	f.run = strings.Trim(strings.TrimPrefix(etcdtest.NewPrefix(), "/ooda-test/"), "/")
	f.armed.Store(-1)
	plan := f.plan()

	ctx, cancel := context.WithCancel(context.Background())
	streamDone := make(chan struct{})
	streamStarted := false
	defer func() {
		cancel()
		if streamStarted {
			<-streamDone
		}
	}()

	// The first three incidents, before the stream: the notes need them.
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range plan[:3] {
		wg.Go(func() { f.send(ctx, c) })
	}
	wg.Wait()
	for _, c := range plan[:3] {
		if !c.acked {
			t.Fatalf("declaration %d was not acknowledged: %v", c.i, c.refusals)
		}
	}

	streamStarted = true
	go func() {
		defer close(streamDone)
		f.stream(ctx, plan[3:])
	}()

	// The first failover: the leader dies mid-stream, with a request to it
	// in flight (just written: it dies reading or running it).
	pollUntil(t, failoverStreamBound, "commands acknowledged before the first kill", func() bool { return f.acked.Load() >= killFirstAfter })
	leader1, _, _ := rs.awaitLeader(failoverElectionBound, &maxLeading)
	kill1 := f.killInFlight(t, leader1, 0)
	ackedAtKill1 := f.acked.Load()
	leader2, seen2, since2 := rs.awaitLeader(failoverElectionBound, &maxLeading)
	t.Logf("killed leader replica %d at %d acknowledged commands; replica %d leads, seen %s after the kill (its status says leader since %s)",
		leader1, ackedAtKill1, leader2, seen2.Sub(kill1).Round(time.Millisecond), sinceVsKill(since2, kill1))

	// The second: the new leader dies too, later in the stream, a few
	// milliseconds into a request (it may have recorded it, unanswered).
	pollUntil(t, failoverStreamBound, "commands acknowledged before the second kill", func() bool { return f.acked.Load() >= killSecondAfter })
	kill2 := f.killInFlight(t, leader2, 5*time.Millisecond)
	ackedAtKill2 := f.acked.Load()
	leader3, seen3, since3 := rs.awaitLeader(failoverElectionBound, &maxLeading)
	t.Logf("killed leader replica %d at %d acknowledged commands; replica %d leads, seen %s after the kill (its status says leader since %s)",
		leader2, ackedAtKill2, leader3, seen3.Sub(kill2).Round(time.Millisecond), sinceVsKill(since3, kill2))

	pollUntil(t, failoverStreamBound, "the end of the stream", func() bool {
		select {
		case <-streamDone:
			return true
		default:
			return false
		}
	})
	streamEnd := time.Now()
	t.Logf("stream of %d commands over %d replicas took %s", len(plan), failoverReplicas, streamEnd.Sub(start).Round(time.Millisecond))

	survivor := rs.members[leader3]
	// Liveness: the last leader performs every effect, those the killed
	// leaders left behind included.
	var incs []api.IncidentWithEvents
	var lastWhy string
	deadline := time.Now().Add(failoverLivenessBound)
	for {
		var why string
		incs, why = f.settled(survivor, fake)
		if why == "" {
			break
		}
		lastWhy = why
		if time.Now().After(deadline) {
			t.Fatalf("the effects are not all performed %v after the stream ended: %s", failoverLivenessBound, lastWhy)
		}
		time.Sleep(250 * time.Millisecond) // polling the survivor and the fake, with a deadline
	}
	t.Logf("every effect performed %s after the stream ended", time.Since(streamEnd).Round(time.Millisecond))

	st, err := client.status(survivor)
	if err != nil {
		t.Fatalf("the survivor's status: %v", err)
	}
	if st.Replica == nil || !st.Replica.Leading || st.Store == nil || !st.Store.Healthy || st.Outbox.Depth != 0 {
		t.Errorf("the survivor's status: replica %+v, store %+v, outbox depth %d; want it leading, the store healthy, the outbox empty", st.Replica, st.Store, st.Outbox.Depth)
	}

	f.checkCommands(t, plan, rs)
	f.checkStoredOnce(t, plan, incs)
	checkEffectsOnce(t, fake, seeded, plan, incs)

	// The benchmark: from each SIGKILL to the new leader's first Slack
	// effect, and how the stream fared meanwhile.
	calls := fake.Calls()
	for k, kill := range []struct {
		at     time.Time
		seen   time.Time
		leader int
	}{{kill1, seen2, leader2}, {kill2, seen3, leader3}} {
		first, stragglers := firstWriteAfter(calls, kill.at)
		effect := "none"
		if !first.IsZero() {
			effect = first.Sub(kill.at).Round(time.Millisecond).String()
		}
		t.Logf("failover %d: new leader (replica %d) seen in the status after %s; its first Slack effect %s after the SIGKILL (%d write(s) within %v of the kill, from the dying replica); slowest acknowledgement of a command sent to a survivor meanwhile: %s",
			k+1, kill.leader, kill.seen.Sub(kill.at).Round(time.Millisecond), effect, stragglers, stragglerGrace,
			f.slowestAck(plan, kill.at, kill.seen).Round(time.Millisecond))
	}
	if maxLeading > 1 {
		t.Logf("note: %d live replicas said at once that they lead (a status sweep is not atomic)", maxLeading)
	}
}

// failoverRun is the stream of one failover test and what became of it.
type failoverRun struct {
	rs      *replicaSet
	client  *replicaClient
	users   []string // Slack users typing the slash commands
	channel string   // where they type them
	run     string   // unique to the run, in every key, title and note

	acked atomic.Int64 // commands acknowledged so far

	// armed is the replica to kill as soon as a request to it is written
	// (-1: none); the worker that wrote it sends its index on fired.
	armed atomic.Int32
	fired chan int

	mu    sync.Mutex
	slots map[int]string // incident slot → INC-n, once its declaration is acknowledged
	known []int          // slots declared, in acknowledgement order
}

// streamCmd is one command of the stream and what became of it. A worker
// owns it while it sends it; the test reads it once the stream ended.
type streamCmd struct {
	i     int
	verb  string // declare, note or postmortem
	slot  int    // declare: the incident's slot
	slack bool   // a slash command, else the API
	key   string // the API's Idempotency-Key, or the slash command's trigger_id
	title string // declare: the title
	note  string // note: the text

	incident string // the incident it is about: chosen when dispatched, or (declare) named by its acknowledgement
	text     string // the command typed

	acked      bool
	ackedBy    int           // the replica that acknowledged it
	attempts   int           // requests sent
	lostReply  int           // requests whose replica was killed while they were in flight: outcome unknown
	refusals   []string      // requests a replica that was not killed did not acknowledge
	start, end time.Time     // first request sent; acknowledged (or given up)
	latency    time.Duration // end - start
}

// plan lays out the stream; incidents of notes are chosen when sent.
func (f *failoverRun) plan() []*streamCmd {
	f.slots = map[int]string{}
	var plan []*streamCmd
	for i := range failoverCommands {
		c := &streamCmd{i: i, slack: i%2 == 1, verb: "note"}
		if c.slack {
			c.key = fmt.Sprintf("failover.%s.%03d", f.run, i)
		} else {
			c.key = fmt.Sprintf("failover-%s-%03d", f.run, i)
		}
		if slot, ok := failoverDeclareAt[i]; ok {
			c.verb, c.slot = "declare", slot
			c.title = fmt.Sprintf("Failover incident %d of run %s", slot, f.run)
			c.text = "declare sev2 " + c.title
		} else if failoverPostmortemAt[i] {
			c.verb = "postmortem"
		}
		plan = append(plan, c)
	}
	return plan
}

// stream sends the commands, one every failoverPace, to a pool of
// workers; the incidents of notes and drafts are picked among those
// declared so far.
func (f *failoverRun) stream(ctx context.Context, cmds []*streamCmd) {
	work := make(chan *streamCmd)
	var wg sync.WaitGroup
	for range failoverWorkers {
		wg.Go(func() {
			for c := range work {
				f.send(ctx, c)
			}
		})
	}
	tick := time.NewTicker(failoverPace)
	defer tick.Stop()
	for _, c := range cmds {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		if ctx.Err() != nil {
			break
		}
		f.mu.Lock()
		if c.verb != "declare" {
			slot := f.known[(c.i*7)%len(f.known)]
			c.incident = f.slots[slot]
		}
		f.mu.Unlock()
		switch c.verb {
		case "note":
			c.note = fmt.Sprintf("failover note %03d of run %s, via %s", c.i, f.run, map[bool]string{true: "Slack", false: "the API"}[c.slack])
			c.text = "note " + c.incident + " " + c.note
		case "postmortem":
			c.text = "postmortem " + c.incident
		}
		work <- c
	}
	close(work)
	wg.Wait()
}

var declaredRE = regexp.MustCompile(`^(INC-\d+) declared`)

// send delivers one command, round-robin by its index, until a replica
// acknowledges it: a request to a killed replica (refused, or cut off in
// flight) is sent again with the same key to the next live replica.
func (f *failoverRun) send(ctx context.Context, c *streamCmd) {
	members := f.rs.members
	target := c.i % len(members)
	c.start = time.Now()
	deadline := c.start.Add(failoverCommandBound)
	for {
		r := members[target]
		deadBefore := r.killed.Load()
		c.attempts++
		inc, what, ok := f.deliver(f.trace(ctx, target), r, c)
		if ok {
			c.acked, c.ackedBy, c.end = true, target, time.Now()
			c.latency = c.end.Sub(c.start)
			if c.verb == "declare" {
				c.incident = inc
				f.mu.Lock()
				f.slots[c.slot] = inc
				f.known = append(f.known, c.slot)
				f.mu.Unlock()
			}
			f.acked.Add(1)
			return
		}
		switch {
		case deadBefore:
			// Sent to a replica already dead: refused, as expected.
		case r.killed.Load():
			c.lostReply++
		default:
			c.refusals = append(c.refusals, fmt.Sprintf("replica %d at %s: %s", target, time.Now().Format("15:04:05.000"), what))
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			c.end = time.Now()
			return
		}
		if !r.killed.Load() {
			select { // a live replica refused: try again shortly (polling, bounded by deadline)
			case <-ctx.Done():
			case <-time.After(failoverRetryPause):
			}
		}
		target = f.nextLive(target)
	}
}

// trace tells killInFlight when a request to replica target, armed to be
// killed, has been written.
func (f *failoverRun) trace(ctx context.Context, target int) context.Context {
	if f.armed.Load() != int32(target) {
		return ctx
	}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
		if f.armed.CompareAndSwap(int32(target), -1) {
			f.fired <- target // buffered, and only the one CompareAndSwap sends
		}
	}})
}

// killInFlight SIGKILLs replica i delay after a request of the stream to
// it was written, so that its client sees the connection cut rather than
// refused: whether the command was recorded is unknown, and the client
// sends it again, with its key, to a survivor. It returns when the kill
// was sent. Without such a request within a few seconds it kills anyway.
func (f *failoverRun) killInFlight(t *testing.T, i int, delay time.Duration) time.Time {
	t.Helper()
	select {
	case <-f.fired: // stale
	default:
	}
	f.armed.Store(int32(i))
	select {
	case <-f.fired:
		time.Sleep(delay) // timing the kill into the request, not synchronizing
	case <-time.After(10 * time.Second):
		f.armed.Store(-1)
		t.Logf("no request to replica %d within 10s; killing it anyway", i)
	}
	at := time.Now()
	f.rs.kill(i)
	return at
}

// sinceVsKill shows a status' leader.since beside the kill that made that
// replica lead.
func sinceVsKill(since string, kill time.Time) string {
	at, err := time.Parse(time.RFC3339Nano, since)
	if err != nil {
		return fmt.Sprintf("%q", since)
	}
	return fmt.Sprintf("%s, %s after the kill", since, at.Sub(kill).Round(time.Millisecond))
}

// nextLive is the first live replica after i, round the ring.
func (f *failoverRun) nextLive(i int) int {
	n := len(f.rs.members)
	for k := 1; k <= n; k++ {
		j := (i + k) % n
		if !f.rs.members[j].killed.Load() {
			return j
		}
	}
	return i
}

// deliver sends c to replica r once, and says whether it was
// acknowledged, the incident the answer named, and otherwise what came
// back.
func (f *failoverRun) deliver(ctx context.Context, r *oodaReplica, c *streamCmd) (string, string, bool) {
	if !c.slack {
		code, rep, err := f.client.apiCommand(ctx, r.base, c.text, c.key)
		switch {
		case err != nil:
			return "", "API: " + err.Error(), false
		case code != http.StatusOK || !rep.OK:
			return "", fmt.Sprintf("API: %d %q", code, rep.Text), false
		case c.verb == "declare" && rep.Incident == "":
			return "", fmt.Sprintf("API: a declaration acknowledged without its incident: %q", rep.Text), false
		}
		return rep.Incident, "", true
	}
	user := f.users[c.i%len(f.users)]
	code, text, err := f.client.slashCommand(ctx, r.base, c.text, user, f.channel, c.key)
	switch {
	case err != nil:
		return "", "Slack: " + err.Error(), false
	case code != http.StatusOK:
		return "", fmt.Sprintf("Slack: %d %q", code, text), false
	case c.verb == "declare":
		m := declaredRE.FindStringSubmatch(text)
		if m == nil {
			return "", fmt.Sprintf("Slack: the declaration not acknowledged: %q", text), false
		}
		return m[1], "", true
	case !strings.HasPrefix(text, c.incident+":"):
		return "", fmt.Sprintf("Slack: not acknowledged: %q", text), false
	}
	return c.incident, "", true
}

// slowestAck is the longest a command sent to a replica that stayed alive
// waited for its acknowledgement, among those first sent between from and
// to (a failover).
func (f *failoverRun) slowestAck(plan []*streamCmd, from, to time.Time) time.Duration {
	var slowest time.Duration
	for _, c := range plan {
		if c.acked && c.lostReply == 0 && !c.start.Before(from) && !c.start.After(to) {
			slowest = max(slowest, c.latency)
		}
	}
	return slowest
}

// settled reads every incident, with its events, from the survivor and
// returns them once every effect is performed: the outbox empty, every
// incident with its channel and kickoff, and no effect failed. Otherwise
// it says what is missing.
func (f *failoverRun) settled(r *oodaReplica, fake *slacktest.Server) ([]api.IncidentWithEvents, string) {
	st, err := f.client.status(r)
	if err != nil {
		return nil, "status: " + err.Error()
	}
	if st.Outbox.Depth != 0 {
		return nil, fmt.Sprintf("%d effect(s) in the outbox", st.Outbox.Depth)
	}
	var list struct {
		Incidents []incident.Incident `json:"incidents"`
	}
	if _, err := f.client.get(r.base+"/api/v1/incidents?all=true", &list); err != nil {
		return nil, err.Error()
	}
	var out []api.IncidentWithEvents
	for _, inc := range list.Incidents {
		var full api.IncidentWithEvents
		if _, err := f.client.get(fmt.Sprintf("%s/api/v1/incidents/%d", r.base, inc.Number), &full); err != nil {
			return nil, err.Error()
		}
		if full.ChannelID == "" {
			return nil, full.ID + " has no channel"
		}
		if full.FailedEffects != 0 {
			return nil, fmt.Sprintf("%s has %d failed effect(s)", full.ID, full.FailedEffects)
		}
		if !slices.ContainsFunc(fake.Messages(full.ChannelID), func(m slacktest.Message) bool {
			return m.MetadataKey(slackapi.MetadataEventType) == incident.KickoffKey(full.Number)
		}) {
			return nil, full.ID + "'s kickoff is not posted"
		}
		out = append(out, full)
	}
	return out, ""
}

// checkCommands: every command was acknowledged, and no replica that
// stayed alive refused one.
func (f *failoverRun) checkCommands(t *testing.T, plan []*streamCmd, rs *replicaSet) {
	t.Helper()
	var unacked, refused []string
	retried, lost := 0, 0
	perReplica := make([]int, len(rs.members))
	for _, c := range plan {
		if !c.acked {
			unacked = append(unacked, fmt.Sprintf("%d %q after %d attempt(s): %v", c.i, c.text, c.attempts, c.refusals))
			continue
		}
		perReplica[c.ackedBy]++
		if c.attempts > 1 {
			retried++
		}
		lost += c.lostReply
		for _, r := range c.refusals {
			refused = append(refused, fmt.Sprintf("%d %q: %s", c.i, c.text, r))
		}
	}
	t.Logf("%d commands acknowledged (per replica %v); %d sent more than once, %d cut off in flight by a SIGKILL and sent again with their key",
		len(plan)-len(unacked), perReplica, retried, lost)
	if len(unacked) > 0 {
		t.Errorf("%d command(s) never acknowledged:\n%s", len(unacked), strings.Join(unacked, "\n"))
	}
	if len(refused) > 0 {
		t.Errorf("live replicas refused %d request(s) during the failovers; they must acknowledge:\n%s", len(refused), strings.Join(refused, "\n"))
	}
}

// checkStoredOnce: every acknowledged command is recorded exactly once,
// in the incident its acknowledgement named: its key on one event of its
// kind, a note's text on one event; one incident per declaration and no
// other.
func (f *failoverRun) checkStoredOnce(t *testing.T, plan []*streamCmd, incs []api.IncidentWithEvents) {
	t.Helper()
	type where struct {
		inc  string
		kind timeline.Kind
	}
	byKey := map[string][]where{}   // the key a command's first event carries → where it is
	byText := map[string][]string{} // an entry's text → the incidents it is in
	titles := map[string][]string{} // a title → the incidents with it
	for _, inc := range incs {
		titles[inc.Title] = append(titles[inc.Title], inc.ID)
		for _, e := range inc.Events {
			// A command's first event: its key is the command's, with
			// the request's fingerprint where the API kept one, and no
			// "#n" of a later event.
			if k := incident.CommandKey(e); k != "" && !strings.Contains(e.Key[len(k):], "#") {
				byKey[k] = append(byKey[k], where{inc.ID, e.Kind})
			}
			if e.Kind == timeline.KindLoopEntry {
				byText[e.Text] = append(byText[e.Text], inc.ID)
			}
		}
	}
	// A command's key as the store keeps it: the API scopes it to the
	// token ("api:<token name>:<key>"), Slack's is "slack:<trigger id>".
	// The keys are unique to the run, so a suffix names one command.
	stored := func(key string) []where {
		var out []where
		for k, ws := range byKey {
			if strings.HasSuffix(k, ":"+key) {
				out = append(out, ws...)
			}
		}
		return out
	}
	kindOf := map[string]timeline.Kind{"declare": timeline.KindDeclared, "note": timeline.KindLoopEntry, "postmortem": timeline.KindPostmortemRequested}
	declared := 0
	for _, c := range plan {
		ws := stored(c.key)
		if !c.acked {
			if len(ws) > 1 {
				t.Errorf("command %d %q, never acknowledged, is recorded %d times: %v", c.i, c.text, len(ws), ws)
			}
			continue
		}
		if len(ws) != 1 || ws[0] != (where{c.incident, kindOf[c.verb]}) {
			t.Errorf("command %d %q (key %s, acknowledged as %s) is recorded as %v; want once, as %s in %s", c.i, c.text, c.key, c.incident, ws, kindOf[c.verb], c.incident)
		}
		switch c.verb {
		case "declare":
			declared++
			if got := titles[c.title]; len(got) != 1 || got[0] != c.incident {
				t.Errorf("declaration %d (%s) made incidents %v; want exactly %s", c.i, c.title, got, c.incident)
			}
		case "note":
			if got := byText[c.note]; len(got) != 1 || got[0] != c.incident {
				t.Errorf("note %d %q is in %v; want once, in %s", c.i, c.note, got, c.incident)
			}
		}
	}
	if len(incs) != declared {
		ids := make([]string, 0, len(incs))
		for _, inc := range incs {
			ids = append(ids, inc.ID)
		}
		t.Errorf("the store holds %d incidents %v for %d acknowledged declarations", len(incs), ids, declared)
	}
}

// checkEffectsOnce: Slack saw every effect exactly once. One channel per
// incident, each name once; no message whose metadata key is on another
// (the kickoff, the announcement, each note's line); a post per note in
// its incident's channel; one completed upload per draft requested, each
// file name once.
func checkEffectsOnce(t *testing.T, fake *slacktest.Server, seeded map[string]bool, plan []*streamCmd, incs []api.IncidentWithEvents) {
	t.Helper()
	channels := fake.Channels()
	byName := map[string]int{}
	created := map[string]bool{}
	for _, ch := range channels {
		byName[ch.Name]++
		if !seeded[ch.ID] {
			created[ch.ID] = true
		}
	}
	for name, n := range byName {
		if n > 1 {
			t.Errorf("channel #%s exists %d times", name, n)
		}
	}
	if len(created) != len(incs) {
		t.Errorf("Ooda created %d channels for %d incidents", len(created), len(incs))
	}
	for _, inc := range incs {
		if !created[inc.ChannelID] {
			t.Errorf("%s's channel %s is not one Ooda created", inc.ID, inc.ChannelID)
		}
	}

	dupes, keys := fake.DuplicateKeys(slackapi.MetadataEventType)
	if dupes != 0 {
		var twice []string
		for k, n := range keys {
			if n > 1 {
				twice = append(twice, fmt.Sprintf("%s ×%d", k, n))
			}
		}
		sort.Strings(twice)
		t.Errorf("%d message(s) posted more than once: %v", dupes, twice)
	}

	// Each note's line: the post effect of its event, keyed (as
	// incident.newEffect keys effects) <incident>/<seq>/post/incident.
	seqOf := map[string]uint64{}
	for _, inc := range incs {
		for _, e := range inc.Events {
			if e.Kind == timeline.KindLoopEntry {
				seqOf[e.Text] = e.Seq
			}
		}
	}
	channelOf := map[string]string{}
	for _, inc := range incs {
		channelOf[inc.ID] = inc.ChannelID
	}
	posts, notes := 0, 0
	for _, c := range plan {
		if !c.acked || c.verb != "note" {
			continue
		}
		notes++
		key := fmt.Sprintf("%s/%d/%s/%s", c.incident, seqOf[c.note], incident.EffectPost, incident.TargetIncident)
		if keys[key] != 1 {
			t.Errorf("note %d (%s) is posted %d times; want once", c.i, key, keys[key])
		}
		if slices.ContainsFunc(fake.Messages(channelOf[c.incident]), func(m slacktest.Message) bool {
			return m.MetadataKey(slackapi.MetadataEventType) == key
		}) {
			posts++
		}
	}
	if posts != notes {
		t.Errorf("%d of %d acknowledged notes are posted in their incident's channel", posts, notes)
	}

	drafts := 0
	for _, c := range plan {
		if c.acked && c.verb == "postmortem" {
			drafts++
		}
	}
	files := fake.Files()
	completed := map[string]int{}
	abandoned := 0
	for _, fl := range files {
		if fl.Completed {
			completed[fl.Name]++
		} else {
			abandoned++
		}
	}
	total := 0
	for name, n := range completed {
		total += n
		if n > 1 {
			t.Errorf("file %s uploaded %d times", name, n)
		}
	}
	if total != drafts {
		t.Errorf("%d upload(s) completed for %d post-mortem draft(s) requested", total, drafts)
	}
	t.Logf("Slack: %d channels created, %d marked messages, %d files uploaded (%d upload(s) started and not completed, by a replica killed in the middle)",
		len(created), len(keys), total, abandoned)
}

// firstWriteAfter is when the first Slack effect call arrived after a
// SIGKILL at kill, leaving out calls within stragglerGrace (counted):
// those may come from the killed replica.
func firstWriteAfter(calls []slacktest.Call, kill time.Time) (time.Time, int) {
	stragglers := 0
	for _, c := range calls {
		if !slackWrites[c.Method] || !c.At.After(kill) {
			continue
		}
		if c.At.Sub(kill) <= stragglerGrace {
			stragglers++
			continue
		}
		return c.At, stragglers
	}
	return time.Time{}, stragglers
}

// pollUntil polls cond until it holds, failing the test after bound.
func pollUntil(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", bound, what)
		}
		time.Sleep(replicaPoll) // polling, with a deadline
	}
}
