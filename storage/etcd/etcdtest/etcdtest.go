// Package etcdtest runs an etcd server inside a test, for the tests of the
// etcd store (storage/etcd) and of whatever runs on it: Start brings up a
// one-member cluster on loopback ports the kernel picks, with its data in
// the test's temporary directory, and stops it when the test ends; Open
// gives a test its own key prefix on it, so tests can share one server
// without seeing each other's keys.
//
// It is test support: production code must never import it, and it must
// never import slack-go, cron, gobreaker, bot, api or app.
package etcdtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/storage/etcd"
)

// startTimeout bounds the wait for the server to become ready: a fresh
// one-member cluster elects itself within a second or two.
const startTimeout = 30 * time.Second

// Start runs a one-member etcd cluster on loopback and returns its client
// endpoints. The server is stopped, and its data removed, when t ends.
func Start(t testing.TB) []string {
	t.Helper()
	return StartServer(t).Endpoints
}

// Server is an embedded etcd a test can stop and start again, to see what
// the store does while its cluster is gone.
type Server struct {
	// Endpoints are its client URLs; they stay the same across Restart.
	Endpoints []string
	t         testing.TB
	cfg       *embed.Config
	e         *embed.Etcd
}

// StartServer is Start, keeping the server in hand.
func StartServer(t testing.TB) *Server {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "etcdtest"
	cfg.Dir = t.TempDir()
	// Port 0: the kernel picks free ports, so tests running in parallel
	// (and child processes) never collide. A one-member cluster never
	// dials its own peer URL.
	loopback := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenClientUrls = []url.URL{loopback}
	cfg.AdvertiseClientUrls = []url.URL{loopback}
	cfg.ListenPeerUrls = []url.URL{loopback}
	cfg.AdvertisePeerUrls = []url.URL{loopback}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	s := &Server{t: t, cfg: cfg}
	s.start()
	for _, l := range s.e.Clients {
		s.Endpoints = append(s.Endpoints, "http://"+l.Addr().String())
	}
	// From now on the client URLs keep the ports they were given, so a
	// restarted server is found where the clients look for it.
	cfg.ListenClientUrls = nil
	for _, ep := range s.Endpoints {
		u, err := url.Parse(ep)
		require.NoError(t, err)
		cfg.ListenClientUrls = append(cfg.ListenClientUrls, *u)
	}
	cfg.AdvertiseClientUrls = cfg.ListenClientUrls
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	e, err := embed.StartEtcd(s.cfg)
	require.NoError(s.t, err, "start embedded etcd")
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		require.NoError(s.t, err, "embedded etcd failed while starting")
	case <-time.After(startTimeout):
		e.Close()
		s.t.Fatalf("embedded etcd not ready after %v", startTimeout)
	}
	s.e = e
}

// Stop stops the server, keeping its data. Stopping a stopped server does
// nothing.
func (s *Server) Stop() {
	if s.e != nil {
		s.e.Close()
		s.e = nil
	}
}

// Restart starts a stopped server again on the same endpoints and data.
func (s *Server) Restart() {
	s.t.Helper()
	require.Nil(s.t, s.e, "etcdtest: Restart of a running server")
	s.start()
}

// Policy is the guard policy tests use: etcd's, with a bulkhead wide
// enough for the concurrency tests.
func Policy() resilience.Policy {
	p := etcd.DefaultPolicy()
	p.MaxConcurrent = 256
	return p
}

// Open opens the store on endpoints under a prefix of its own, with now
// as its clock (nil: time.Now). It is closed when t ends.
func Open(t testing.TB, endpoints []string, now func() time.Time) *etcd.Store {
	t.Helper()
	return OpenPrefix(t, endpoints, NewPrefix(), now)
}

// OpenPrefix opens the store on endpoints under prefix, as another
// replica sharing a prefix would. It is closed when t ends.
func OpenPrefix(t testing.TB, endpoints []string, prefix string, now func() time.Time) *etcd.Store {
	t.Helper()
	guard, err := resilience.New(Policy())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := etcd.Open(ctx, etcd.Options{Endpoints: endpoints, Prefix: prefix, Guard: guard, Now: now})
	require.NoError(t, err, "open the etcd store")
	t.Cleanup(func() { require.NoError(t, s.Close(), "close the etcd store") })
	return s
}

// NewPrefix returns a key prefix no other test uses.
func NewPrefix() string { return "/ooda-test/" + rand.Text() + "/" }

// Client returns a plain client of endpoints, for tests that inspect or
// damage keys directly. It is closed when t ends.
func Client(t testing.TB, endpoints []string) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
