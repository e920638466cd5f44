package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot"
	"github.com/ooda-sre/ooda/internal/testproc"
)

// This file runs `ooda serve` replicas as child processes, for the
// black-box failover test: it builds the binary, starts and kills the
// processes, and speaks to them as Slack, the API's clients and an
// operator reading the status would.

// Bounds that only catch hangs; none of them measures speed.
const (
	replicaStartBound = 60 * time.Second // from exec to /readyz 200
	replicaPoll       = 50 * time.Millisecond
	replicaLogTail    = 40               // lines of each replica's stderr shown when a test fails
	replicaCallBound  = 20 * time.Second // one HTTP request to a replica
)

// buildOodaBinary builds ./cmd/ooda into the test's temporary directory
// and returns its path. The module's root comes from `go env GOMOD`, so
// the test may run from any package directory. Without a go command the
// test is skipped: the failover test runs real processes and needs the
// binary built from this checkout.
func buildOodaBinary(t testing.TB) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not on PATH, and the failover test runs the ooda binary built from this checkout: %v", err)
	}
	out, err := exec.Command(gobin, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD names no go.mod (%q): run the test inside the module", gomod)
	}
	bin := filepath.Join(t.TempDir(), "ooda")
	cmd := exec.Command(gobin, "build", "-o", bin, "./cmd/ooda")
	cmd.Dir = filepath.Dir(gomod)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/ooda: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// replicaSet is the ooda replicas of one test, all sharing one store. Its
// methods may be called from any goroutine; the ones that take t only
// from the test's.
type replicaSet struct {
	t       testing.TB
	bin     string
	env     []string // shared by every replica
	client  *replicaClient
	members []*oodaReplica
}

// oodaReplica is one `ooda serve` process.
type oodaReplica struct {
	index   int
	name    string // as its status names it (replica.name); set by startReplicas
	base    string // http://127.0.0.1:port
	logPath string // its stderr: the JSON log
	outPath string // its stdout: the "listening on" line
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has exited and been reaped
	killed  atomic.Bool   // set before it is sent SIGKILL
}

// startReplicas starts n `ooda serve` processes with env (plus a listen
// address of the kernel's choosing each) and returns once every one
// answers /readyz with 200 and has told its name in its status. Every
// process is killed, and reaped, when t ends; when t failed, the end of
// each one's stderr is logged.
func startReplicas(t testing.TB, bin string, n int, env []string, client *replicaClient) *replicaSet {
	t.Helper()
	rs := &replicaSet{t: t, bin: bin, env: env, client: client}
	t.Cleanup(rs.cleanup)
	dir := t.TempDir()
	for i := range n {
		rs.members = append(rs.members, rs.spawn(i, dir))
	}
	for _, r := range rs.members {
		rs.waitListening(r)
	}
	for _, r := range rs.members {
		rs.waitReady(r)
	}
	return rs
}

// spawn starts replica i. Its stdout and stderr are files, so Wait
// starts no copying goroutine; the one started here ends with the
// process, which cleanup makes sure of.
func (rs *replicaSet) spawn(i int, dir string) *oodaReplica {
	rs.t.Helper()
	home := filepath.Join(dir, fmt.Sprintf("replica%d", i))
	if err := os.MkdirAll(home, 0o700); err != nil {
		rs.t.Fatalf("replica %d's directory: %v", i, err)
	}
	r := &oodaReplica{
		index:   i,
		logPath: filepath.Join(dir, fmt.Sprintf("replica%d.stderr", i)),
		outPath: filepath.Join(dir, fmt.Sprintf("replica%d.stdout", i)),
		done:    make(chan struct{}),
	}
	stdout, err := os.Create(r.outPath)
	if err != nil {
		rs.t.Fatalf("replica %d's stdout: %v", i, err)
	}
	defer stdout.Close()
	stderr, err := os.Create(r.logPath)
	if err != nil {
		rs.t.Fatalf("replica %d's stderr: %v", i, err)
	}
	defer stderr.Close() // the child has its own descriptor
	r.cmd = exec.Command(rs.bin, "serve")
	r.cmd.Dir = home
	// Nothing of the test's environment: no OODA_DB, no config file, no
	// HOME of the person running the tests.
	r.cmd.Env = append([]string{"HOME=" + home, "TMPDIR=" + home, "OODA_LISTEN=127.0.0.1:0"}, rs.env...)
	r.cmd.Stdout, r.cmd.Stderr = stdout, stderr
	testproc.DieWithParent(r.cmd)
	if err := r.cmd.Start(); err != nil {
		rs.t.Fatalf("start replica %d: %v", i, err)
	}
	go func() {
		_ = r.cmd.Wait()
		close(r.done)
	}()
	return r
}

var listeningRE = regexp.MustCompile(`listening on (\S+)`)

// waitListening reads the address replica r listens on from its stdout.
func (rs *replicaSet) waitListening(r *oodaReplica) {
	rs.t.Helper()
	deadline := time.Now().Add(replicaStartBound)
	for {
		b, _ := os.ReadFile(r.outPath)
		if m := listeningRE.FindSubmatch(b); m != nil {
			r.base = "http://" + string(m[1])
			return
		}
		rs.checkStarting(r, deadline, "has not said where it listens")
	}
}

// waitReady polls /readyz until it answers 200, then reads the replica's
// name from its status.
func (rs *replicaSet) waitReady(r *oodaReplica) {
	rs.t.Helper()
	deadline := time.Now().Add(replicaStartBound)
	for {
		if code, _ := rs.client.get(r.base+"/readyz", nil); code == http.StatusOK {
			break
		}
		rs.checkStarting(r, deadline, "is not ready")
	}
	for {
		st, err := rs.client.status(r)
		if err == nil && st.Replica != nil && st.Replica.Name != "" {
			r.name = st.Replica.Name
			return
		}
		rs.checkStarting(r, deadline, fmt.Sprintf("does not name itself in GET /api/v1/status (replica.name): %v", err))
	}
}

// checkStarting fails the test when replica r exited or the deadline
// passed, and otherwise waits one poll.
func (rs *replicaSet) checkStarting(r *oodaReplica, deadline time.Time, what string) {
	rs.t.Helper()
	select {
	case <-r.done:
		rs.t.Fatalf("replica %d exited while starting (%v); its stderr:\n%s", r.index, r.cmd.ProcessState, testproc.Tail(r.logPath, replicaLogTail))
	case <-time.After(replicaPoll):
	}
	if time.Now().After(deadline) {
		rs.t.Fatalf("replica %d %s after %v; its stderr:\n%s", r.index, what, replicaStartBound, testproc.Tail(r.logPath, replicaLogTail))
	}
}

// kill sends replica i SIGKILL, as a crashed process or a lost host, and
// returns once the process is gone.
func (rs *replicaSet) kill(i int) {
	r := rs.members[i]
	r.killed.Store(true)
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		rs.t.Errorf("kill replica %d: %v", i, err)
	}
	<-r.done
}

// live lists the replicas not killed, by index.
func (rs *replicaSet) live() []int {
	var out []int
	for i, r := range rs.members {
		if !r.killed.Load() {
			out = append(out, i)
		}
	}
	return out
}

// byName is the index of the replica a status names, or -1.
func (rs *replicaSet) byName(name string) int {
	for i, r := range rs.members {
		if r.name == name {
			return i
		}
	}
	return -1
}

// leaderSweep is what the live replicas' statuses said at one moment.
type leaderSweep struct {
	leader  int    // the replica all of them name as leader and that says it leads; -1 when they do not agree
	named   string // leader.name as the first answering replica said it, for messages
	since   string // leader.since as the first answering replica said it
	leading int    // how many live replicas said they lead
	err     error  // the first status that could not be read
}

// sweep reads every live replica's status once.
func (rs *replicaSet) sweep() leaderSweep {
	out := leaderSweep{leader: -1}
	names := map[string]bool{}
	leadingIdx := -1
	for _, i := range rs.live() {
		st, err := rs.client.status(rs.members[i])
		if err != nil {
			if out.err == nil {
				out.err = fmt.Errorf("replica %d: %w", i, err)
			}
			continue
		}
		if st.Replica != nil && st.Replica.Leading {
			out.leading++
			leadingIdx = i
		}
		name := ""
		if st.Leader != nil {
			name = st.Leader.Name
		}
		if out.named == "" {
			out.named = name
			if st.Leader != nil {
				out.since = st.Leader.Since
			}
		}
		names[name] = true
	}
	if out.err != nil || len(names) != 1 || out.leading != 1 || out.named == "" {
		return out
	}
	if l := rs.byName(out.named); l == leadingIdx && !rs.members[l].killed.Load() {
		out.leader = l
	}
	return out
}

// awaitLeader polls the live replicas' statuses until they agree that one
// of them leads (and it says so), and returns it, when that was first
// seen and the status' leader.since. It fails the test after bound.
// maxLeading is raised to the most live replicas seen leading at once.
func (rs *replicaSet) awaitLeader(bound time.Duration, maxLeading *int) (int, time.Time, string) {
	rs.t.Helper()
	deadline := time.Now().Add(bound)
	var last leaderSweep
	for {
		last = rs.sweep()
		if maxLeading != nil && last.leading > *maxLeading {
			*maxLeading = last.leading
		}
		if last.leader >= 0 {
			return last.leader, time.Now(), last.since
		}
		if time.Now().After(deadline) {
			rs.t.Fatalf("no live replica leads after %v: leader.name %q, %d replica(s) say they lead, live %v, status error %v",
				bound, last.named, last.leading, rs.live(), last.err)
		}
		time.Sleep(replicaPoll) // polling the statuses, with a deadline
	}
}

// cleanup kills every replica still running and reaps it; when the test
// failed it shows the end of each one's stderr.
func (rs *replicaSet) cleanup() {
	for _, r := range rs.members {
		if r.cmd.Process != nil {
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	}
	if rs.t.Failed() {
		for _, r := range rs.members {
			rs.t.Logf("the end of replica %d's stderr (%s, %s, killed by the test: %v):\n%s",
				r.index, r.name, r.logPath, r.killed.Load(), testproc.Tail(r.logPath, replicaLogTail))
		}
	}
}

// replicaStatus is the part of GET /api/v1/status the failover test
// reads: who this replica is and who leads, the store, the outbox.
type replicaStatus struct {
	Replica *struct {
		Name    string `json:"name"`
		Leading bool   `json:"leading"`
	} `json:"replica"`
	Leader *struct {
		Name  string `json:"name"`
		Since string `json:"since"`
	} `json:"leader"`
	Store *struct {
		Backend string `json:"backend"`
		Healthy bool   `json:"healthy"`
	} `json:"store"`
	Outbox struct {
		Depth int `json:"depth"`
	} `json:"outbox"`
}

// replicaClient speaks to replicas as the API's clients and Slack do.
type replicaClient struct {
	http          *http.Client
	apiToken      string
	signingSecret string
	slashForm     url.Values // Slack's documented slash command, the template of every one sent
}

// newReplicaClient returns a client with a transport of its own, whose
// idle connections are closed when t ends (so no goroutine outlives it).
func newReplicaClient(t testing.TB, apiToken, signingSecret string) *replicaClient {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(slackFixtures, "slash_command.form"))
	if err != nil {
		t.Fatalf("slash command fixture: %v", err)
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		t.Fatalf("slash command fixture: %v", err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 8, IdleConnTimeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	return &replicaClient{
		http:          &http.Client{Transport: tr, Timeout: replicaCallBound},
		apiToken:      apiToken,
		signingSecret: signingSecret,
		slashForm:     form,
	}
}

// get fetches url with the API token and decodes a 200 answer into v (when
// not nil). It returns the status code, 0 when no answer came.
func (c *replicaClient) get(url string, v any) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiToken)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			return resp.StatusCode, fmt.Errorf("GET %s: %w", url, err)
		}
	}
	return resp.StatusCode, nil
}

// status reads replica r's GET /api/v1/status.
func (c *replicaClient) status(r *oodaReplica) (replicaStatus, error) {
	var st replicaStatus
	_, err := c.get(r.base+"/api/v1/status", &st)
	return st, err
}

// apiCommand sends text to POST /api/v1/commands with the idempotency
// key. err is set only when no answer came.
func (c *replicaClient) apiCommand(ctx context.Context, base, text, key string) (int, api.CommandReply, error) {
	body, err := json.Marshal(api.CommandRequest{Text: text})
	if err != nil {
		return 0, api.CommandReply{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/commands", bytes.NewReader(body))
	if err != nil {
		return 0, api.CommandReply{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, api.CommandReply{}, err
	}
	defer resp.Body.Close()
	var rep api.CommandReply
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return resp.StatusCode, rep, fmt.Errorf("the reply is not a command reply: %w", err)
	}
	return resp.StatusCode, rep, nil
}

// slashCommand sends `/incident text` to POST /slack/commands as Slack
// would, signed, typed by user in channel; trigger is unique per
// invocation and the same when the invocation is sent again. It returns
// the status and the ephemeral reply's text.
func (c *replicaClient) slashCommand(ctx context.Context, base, text, user, channel, trigger string) (int, string, error) {
	form := url.Values{}
	for k, v := range c.slashForm {
		form[k] = append([]string(nil), v...)
	}
	form.Set("command", "/incident")
	form.Set("text", text)
	form.Set("user_id", user)
	form.Set("user_name", strings.ToLower(user))
	form.Set("channel_id", channel)
	form.Set("trigger_id", trigger)
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/slack/commands", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	bot.SignRequest(req.Header, c.signingSecret, time.Now(), body)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "", err
	}
	var rep struct {
		Text string `json:"text"`
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &rep); err != nil {
			return resp.StatusCode, string(raw), fmt.Errorf("the reply is not a slash command reply: %w", err)
		}
		return resp.StatusCode, rep.Text, nil
	}
	return resp.StatusCode, string(bytes.TrimSpace(raw)), nil
}
