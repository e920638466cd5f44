package etcdtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ooda-sre/ooda/internal/testproc"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// EtcdBinary is the etcd server StartCluster runs, found on PATH. Debian's
// package is etcd-server (it installs /usr/bin/etcd).
const EtcdBinary = "etcd"

// memberPoll is how often a starting member is asked whether it serves,
// and memberStopTimeout how long a member stopped with SIGTERM gets
// before it is killed.
const (
	memberPoll        = 50 * time.Millisecond
	memberStopTimeout = 15 * time.Second
	logTail           = 30 // lines of each member's log shown when a test fails
)

// Cluster is a real etcd cluster on loopback: one etcd process per member,
// each with its own data directory in the test's temporary directory, so
// a test can kill, stop and restart members and see what the store does
// when a member dies or the cluster loses its quorum. Its methods may be
// called from any goroutine.
type Cluster struct {
	t       testing.TB
	bin     string
	mu      sync.Mutex
	members []*member
}

// member is one etcd process of a Cluster and what it needs to start
// again.
type member struct {
	name      string
	clientURL string
	args      []string // every flag but --initial-cluster-state
	logPath   string   // its stderr (and its zap logs), across restarts
	started   bool     // it was started once: its data directory is a member's

	proc *process // nil while it is not running
}

// process is one run of a member's etcd.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been reaped
	err  error         // what Wait returned, once done is closed
}

// StartCluster runs a cluster of members etcd processes (Debian's
// etcd-server) on loopback ports and returns when every member answers a
// linearizable read. The processes are killed, and their data removed,
// when t ends. Without an etcd binary on PATH the test is skipped, or
// fails when the CI environment variable is set, where the cluster test
// must run.
func StartCluster(t testing.TB, members int) *Cluster {
	t.Helper()
	if members < 1 {
		t.Fatalf("etcdtest: a cluster of %d members", members)
	}
	bin, err := exec.LookPath(EtcdBinary)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("etcd not installed (apt-get install etcd-server), and CI must run the cluster tests: %v", err)
		}
		t.Skip("etcd not installed (apt-get install etcd-server)")
	}
	dir := t.TempDir()
	c := &Cluster{t: t, bin: bin}
	// Registered after TempDir, so it runs first: the processes are gone
	// before their data directories are removed.
	t.Cleanup(c.cleanup)

	ports := freePorts(t, 2*members)
	token := "ooda-etcdtest-" + rand.Text()
	var initial []string
	for i := range members {
		name := fmt.Sprintf("m%d", i)
		initial = append(initial, name+"=http://"+ports[2*i+1])
	}
	for i := range members {
		name := fmt.Sprintf("m%d", i)
		clientURL, peerURL := "http://"+ports[2*i], "http://"+ports[2*i+1]
		c.members = append(c.members, &member{
			name:      name,
			clientURL: clientURL,
			logPath:   filepath.Join(dir, name+".log"),
			args: []string{
				"--name", name,
				"--data-dir", filepath.Join(dir, name),
				"--listen-client-urls", clientURL,
				"--advertise-client-urls", clientURL,
				"--listen-peer-urls", peerURL,
				"--initial-advertise-peer-urls", peerURL,
				"--initial-cluster", strings.Join(initial, ","),
				"--initial-cluster-token", token,
				"--logger", "zap",
				"--log-outputs", "stderr",
				"--log-level", "info",
			},
		})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// A new member waits for the others before it serves, so all start
	// before any is waited for.
	for i := range c.members {
		c.spawn(i)
	}
	for i := range c.members {
		c.waitServing(i)
	}
	return c
}

// Endpoints returns the members' client URLs, in member order. They stay
// the same when members are stopped and started again.
func (c *Cluster) Endpoints() []string {
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = m.clientURL
	}
	return out
}

// Endpoint returns member i's client URL.
func (c *Cluster) Endpoint(i int) string { return c.members[i].clientURL }

// Kill kills member i with SIGKILL, as a crash or a lost host would, and
// waits for the process to be gone. Killing a member that is not running
// does nothing.
func (c *Cluster) Kill(i int) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.halt(i, syscall.SIGKILL)
}

// Stop stops member i with SIGTERM, as an orderly shutdown would, and
// waits for it to exit (killing it if it takes longer than 15 s).
// Stopping a member that is not running does nothing.
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.halt(i, syscall.SIGTERM)
}

// Start starts member i again, killed or stopped, with the same data
// directory, ports and flags, and waits until it answers a linearizable
// read: it rejoins the cluster, so a quorum must be reachable with it.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.members[i].proc != nil {
		c.t.Fatalf("etcdtest: Start of %s, which is running", c.members[i].name)
	}
	c.spawn(i)
	c.waitServing(i)
}

// Running reports whether member i's process is running.
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.members[i].proc
	if p == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Leader returns the index of the member that leads the cluster, as the
// first running member that answers says.
func (c *Cluster) Leader() int {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := c.memberIDs()
	for i := range c.members {
		if c.members[i].proc == nil {
			continue
		}
		st, err := c.status(i)
		if err != nil || st.Leader == 0 {
			continue
		}
		if l, ok := ids[st.Leader]; ok {
			return l
		}
	}
	c.t.Fatalf("etcdtest: no running member knows a leader")
	return -1
}

// MoveLeader hands the cluster's leadership to member i and waits until
// it leads, so that a test can kill the leader on purpose.
func (c *Cluster) MoveLeader(i int) {
	c.t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		l := c.Leader()
		if l == i {
			return
		}
		c.mu.Lock()
		id := c.memberID(i)
		err := c.withClient(l, func(ctx context.Context, client *clientv3.Client) error {
			_, err := client.MoveLeader(ctx, id)
			return err
		})
		c.mu.Unlock()
		if time.Now().After(deadline) {
			c.t.Fatalf("etcdtest: leadership not moved to m%d within %v (leader m%d): %v", i, startTimeout, l, err)
		}
		if err != nil {
			time.Sleep(memberPoll) // polling: the leader may be changing
		}
	}
}

// memberIDs maps the raft member IDs of the running members to their
// indexes. Called with c.mu held.
func (c *Cluster) memberIDs() map[uint64]int {
	ids := map[uint64]int{}
	for i := range c.members {
		if c.members[i].proc == nil {
			continue
		}
		if st, err := c.status(i); err == nil {
			ids[st.Header.MemberId] = i
		}
	}
	return ids
}

// memberID is member i's raft ID, which it must be running to tell.
// Called with c.mu held.
func (c *Cluster) memberID(i int) uint64 {
	c.t.Helper()
	st, err := c.status(i)
	if err != nil {
		c.t.Fatalf("etcdtest: status of %s: %v", c.members[i].name, err)
	}
	return st.Header.MemberId
}

// status asks member i, alone, for its status.
func (c *Cluster) status(i int) (*clientv3.StatusResponse, error) {
	var st *clientv3.StatusResponse
	err := c.withClient(i, func(ctx context.Context, client *clientv3.Client) error {
		var err error
		st, err = client.Status(ctx, c.members[i].clientURL)
		return err
	})
	return st, err
}

// withClient calls fn with a client of member i's endpoint alone and a
// context of a few seconds.
func (c *Cluster) withClient(i int, fn func(context.Context, *clientv3.Client) error) error {
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{c.members[i].clientURL},
		DialTimeout: time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return fn(ctx, client)
}

// spawn starts member i's process. Its first run founds the cluster
// (--initial-cluster-state new); later runs join the existing one.
func (c *Cluster) spawn(i int) {
	c.t.Helper()
	m := c.members[i]
	state := "new"
	if m.started {
		state = "existing"
	}
	logf, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		c.t.Fatalf("etcdtest: %s's log: %v", m.name, err)
	}
	// The child has its own copy of the descriptor; ours is not needed
	// once it started.
	defer logf.Close()
	fmt.Fprintf(logf, "--- etcdtest: starting %s (%s) at %s\n", m.name, state, time.Now().Format(time.RFC3339Nano))

	cmd := exec.Command(c.bin, append(m.args, "--initial-cluster-state", state)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Environment variables would override flags (ETCD_NAME and the like).
	cmd.Env = environWithoutEtcd()
	testproc.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("etcdtest: start %s: %v", m.name, err)
	}
	m.started = true
	p := &process{cmd: cmd, done: make(chan struct{})}
	// Stdout and Stderr are files, so Wait starts no copying goroutines;
	// this one ends when the process does, and cleanup makes sure it does.
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	m.proc = p
}

// waitServing polls member i, on its endpoint alone, until it answers a
// linearizable read (so it has a leader and is part of a quorum). It
// fails the test when the process exits first or the deadline passes.
func (c *Cluster) waitServing(i int) {
	c.t.Helper()
	m := c.members[i]
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{m.clientURL},
		DialTimeout: time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		c.t.Fatalf("etcdtest: client of %s: %v", m.name, err)
	}
	defer client.Close()
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(memberPoll)
	defer tick.Stop()
	var last error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, last = client.Get(ctx, "etcdtest-health")
		cancel()
		if last == nil {
			return
		}
		select {
		case <-m.proc.done:
			c.t.Fatalf("etcdtest: %s exited while starting (%v); its log:\n%s", m.name, m.proc.err, testproc.Tail(m.logPath, logTail))
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("etcdtest: %s does not serve after %v: %v; its log:\n%s", m.name, startTimeout, last, testproc.Tail(m.logPath, logTail))
		}
	}
}

// halt sends sig to member i and waits for the process to exit. A member
// that does not stop on SIGTERM in time is killed.
func (c *Cluster) halt(i int, sig syscall.Signal) {
	c.t.Helper()
	m := c.members[i]
	p := m.proc
	if p == nil {
		return
	}
	m.proc = nil
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		c.t.Errorf("etcdtest: signal %s: %v", m.name, err)
	}
	select {
	case <-p.done:
		return
	case <-time.After(memberStopTimeout):
	}
	c.t.Errorf("etcdtest: %s did not exit within %v of %v; killing it", m.name, memberStopTimeout, sig)
	_ = p.cmd.Process.Kill()
	<-p.done
}

// cleanup kills every member still running and waits for each process
// to be gone, and shows the end of every member's log when the test
// failed.
func (c *Cluster) cleanup() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.members {
		c.halt(i, syscall.SIGKILL)
	}
	if c.t.Failed() {
		for _, m := range c.members {
			c.t.Logf("etcdtest: the end of %s's log (%s):\n%s", m.name, m.logPath, testproc.Tail(m.logPath, logTail))
		}
	}
}

// freePorts returns n distinct loopback addresses ("127.0.0.1:port") on
// ports the kernel reports free. They are held until all are picked, so
// they differ; another process could still take one before etcd binds it,
// which the member's start then reports.
func freePorts(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("etcdtest: pick a free port: %v", err)
		}
		defer l.Close()
		out = append(out, l.Addr().String())
	}
	return out
}

// environWithoutEtcd is this process's environment less etcd's own
// ETCD_* variables, which would override the flags.
func environWithoutEtcd() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			env = append(env, kv)
		}
	}
	return env
}
