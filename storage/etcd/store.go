package etcd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/storage"
)

// Store is Ooda's store on etcd. It is safe for concurrent use, and any
// number of processes may share one prefix. Build it with New or Open.
type Store struct {
	client *clientv3.Client
	owned  bool // Close closes client: Open built it
	keys   keys
	guard  *resilience.Guard
	now    func() time.Time
	locks  *locks

	closeOnce sync.Once
	closeErr  error
}

var (
	_ storage.Store   = (*Store)(nil)
	_ incident.Store  = (*Store)(nil)
	_ incident.Outbox = (*Store)(nil)
)

// Dependency names etcd to its resilience.Guard: in errors, logs and
// metric labels.
const Dependency = "etcd"

// DefaultPrefix is the prefix of Config and Options left empty.
const DefaultPrefix = "/ooda/"

// DefaultDialTimeout is the DialTimeout of Options left zero.
const DefaultDialTimeout = 5 * time.Second

// schemaVersion is the key layout this build reads and writes (doc.go).
const schemaVersion = 1

// DefaultPolicy returns the guard policy for etcd. A command makes two or
// three calls and must be answered within Slack's 3 seconds, so an
// attempt gets 1 s (a healthy cluster answers in milliseconds; one without
// quorum never does) and the breaker, once open, probes again after 5 s so
// that commands resume soon after quorum returns. The bulkhead is wide:
// every command of every user goes through it, and in-process locks
// already keep writers of one incident from piling up on etcd.
func DefaultPolicy() resilience.Policy {
	p := resilience.DefaultPolicy(Dependency)
	p.Timeout = time.Second
	p.MaxAttempts = 3
	p.BaseDelay = 100 * time.Millisecond
	p.MaxDelay = time.Second
	p.DefaultRetryAfter = time.Second
	p.MaxConcurrent = 128
	p.OpenTimeout = 5 * time.Second
	return p
}

// Config configures New.
type Config struct {
	// Client is the etcd client to use. New does not take it over: Close
	// leaves it open.
	Client *clientv3.Client
	// Prefix is where Ooda's keys live; empty means DefaultPrefix. A
	// prefix without a trailing slash gets one.
	Prefix string
	// Guard carries every call to etcd. Nil means a guard built from
	// DefaultPolicy, without logs or metrics.
	Guard *resilience.Guard
	// Now is the clock for queue and first-seen times. Nil means time.Now.
	Now func() time.Time
}

// New opens the store under cfg.Prefix on cfg.Client. It writes the
// layout version into an empty prefix and refuses a prefix a newer ooda
// wrote. ctx bounds that first exchange with etcd.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Client == nil {
		return nil, errors.New("etcd store: no client")
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	guard := cfg.Guard
	if guard == nil {
		var err error
		if guard, err = resilience.New(DefaultPolicy()); err != nil {
			return nil, fmt.Errorf("etcd store: %w", err)
		}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{client: cfg.Client, keys: keys{prefix}, guard: guard, now: now, locks: newLocks()}
	if err := s.checkSchema(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Options configures Open. The names follow etcdctl's flags.
type Options struct {
	// Endpoints are the cluster's client URLs ("https://10.0.0.1:2379").
	Endpoints []string
	// Prefix is where Ooda's keys live; empty means DefaultPrefix.
	Prefix string
	// CACert verifies the servers' certificates; Cert and Key identify
	// the client. Any of them turns TLS on.
	CACert, Cert, Key string
	// Username and Password authenticate the client, when etcd's
	// authentication is enabled.
	Username, Password string
	// DialTimeout bounds connecting and authenticating; zero means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// Guard and Now are as in Config.
	Guard *resilience.Guard
	Now   func() time.Time
}

// Open connects to the cluster opts describes and opens the store on it
// (see New). Close closes the connection.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if len(opts.Endpoints) == 0 {
		return nil, errors.New("etcd store: no endpoints")
	}
	if (opts.Cert == "") != (opts.Key == "") {
		return nil, errors.New("etcd store: a client certificate needs its key, and a key its certificate")
	}
	if (opts.Username == "") != (opts.Password == "") {
		return nil, errors.New("etcd store: a username needs its password, and a password its username")
	}
	cc := clientv3.Config{
		Endpoints:   opts.Endpoints,
		DialTimeout: opts.DialTimeout,
		Username:    opts.Username,
		Password:    opts.Password,
		// A dead connection is noticed within seconds, not at the next
		// TCP timeout.
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 3 * time.Second,
		// The guard owns retrying; the client's own loop would multiply
		// attempts and outlive the guard's deadline.
		MaxUnaryRetries: 1,
		Logger:          zap.NewNop(),
	}
	if cc.DialTimeout <= 0 {
		cc.DialTimeout = DefaultDialTimeout
	}
	if opts.CACert != "" || opts.Cert != "" {
		info := transport.TLSInfo{CertFile: opts.Cert, KeyFile: opts.Key, TrustedCAFile: opts.CACert}
		tlsCfg, err := info.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("etcd store: TLS: %w", err)
		}
		cc.TLS = tlsCfg
	}
	client, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("etcd store: connect to %s: %w", strings.Join(opts.Endpoints, ","), unreachable(err))
	}
	s, err := New(ctx, Config{Client: client, Prefix: opts.Prefix, Guard: opts.Guard, Now: opts.Now})
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Close closes the connection when Open made it. Calling it again does
// nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.owned {
			if err := s.client.Close(); err != nil && !errors.Is(err, context.Canceled) {
				s.closeErr = fmt.Errorf("close etcd client: %w", err)
			}
		}
	})
	return s.closeErr
}

// Prefix returns the prefix the store's keys live under.
func (s *Store) Prefix() string { return s.keys.p }

// checkSchema writes the layout version into an empty prefix and refuses
// one written by a newer layout.
func (s *Store) checkSchema(ctx context.Context) error {
	key := s.keys.schema()
	want := strconv.Itoa(schemaVersion)
	resp, err := s.txn(ctx, "init", true,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)},
		[]clientv3.Op{clientv3.OpPut(key, want)},
		[]clientv3.Op{clientv3.OpGet(key)})
	if err != nil {
		return fmt.Errorf("etcd store: open %s: %w", s.keys.p, err)
	}
	if resp.Succeeded {
		return nil
	}
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	if len(kvs) == 0 {
		return fmt.Errorf("etcd store: open %s: %s vanished while being read", s.keys.p, key)
	}
	v, err := strconv.ParseUint(string(kvs[0].Value), 10, 64)
	if err != nil {
		return fmt.Errorf("etcd store: open %s: %s is %q, not a layout version: %w", s.keys.p, key, kvs[0].Value, storage.ErrCorrupt)
	}
	if v > schemaVersion {
		return fmt.Errorf("etcd store: open %s: layout version %d is newer than this ooda understands (%d); upgrade ooda: %w",
			s.keys.p, v, schemaVersion, storage.ErrSchemaTooNew)
	}
	return nil
}

// nowUTC is the store's clock in UTC, as bbolt stores times.
func (s *Store) nowUTC() time.Time { return s.now().UTC() }
