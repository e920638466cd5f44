package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"runtime/debug"
	"time"

	"go.etcd.io/bbolt"
)

// Open opens the database at path, creating it (mode 0600) when it does not
// exist, and brings its schema up to date. It refuses, with an *OpenError,
// a file another process holds (ErrLocked, after opts.LockTimeout), a file
// that is not an Ooda database or is damaged (ErrCorrupt), and a file a
// newer ooda wrote (ErrSchemaTooNew). It never panics on a bad file.
func Open(path string, opts Options) (*DB, error) {
	return open(path, opts, migrations())
}

// OpenReadOnly opens the database at path for reading, as `ooda check` and
// `ooda export` need it: it never creates the file and never writes to it,
// migrations included. A path with no file is refused with an error that
// says so and matches fs.ErrNotExist; an empty file, which Open would turn
// into a database, is refused as ErrCorrupt; a file whose schema is older
// than this ooda's is refused with a sentence saying how to upgrade it.
// Otherwise it refuses what Open refuses; a file a server holds is
// ErrLocked, since bbolt lets readers share the file only with readers.
func OpenReadOnly(path string, opts Options) (*DB, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("no database at %s: %w", path, fs.ErrNotExist)
	case err != nil:
		return nil, fmt.Errorf("open database: %w", err)
	case st.IsDir():
		return nil, fmt.Errorf("no database at %s: it is a directory; name the database file", path)
	case st.Size() == 0:
		return nil, corrupt(path, errors.New("the file is empty"))
	}
	return openMode(path, opts, migrations(), true)
}

func open(path string, opts Options, steps []migration) (*DB, error) {
	return openMode(path, opts, steps, false)
}

func openMode(path string, opts Options, steps []migration, readOnly bool) (*DB, error) {
	opts = opts.withDefaults()
	// bbolt trusts the file's meta page: given one that points past the end
	// of a truncated file, it maps the missing pages and the first read of
	// one is a memory fault that kills the process ("fatal error: fault"),
	// in whichever goroutine makes it; no recover catches that. So the meta
	// pages are checked against the file's size first.
	if err := sniff(path); err != nil {
		return nil, corrupt(path, err)
	}
	bdb, err := openBolt(path, &bbolt.Options{
		Timeout:      opts.LockTimeout,
		FreelistType: bbolt.FreelistArrayType,
		ReadOnly:     readOnly,
	})
	switch {
	case errors.Is(err, bbolt.ErrTimeout):
		pid, _ := lockHolder(path)
		return nil, &OpenError{Path: path, Kind: ErrLocked, Pid: pid, Err: err}
	case errors.Is(err, bbolt.ErrInvalid), errors.Is(err, bbolt.ErrVersionMismatch),
		errors.Is(err, bbolt.ErrChecksum), errors.As(err, new(panicError)):
		return nil, corrupt(path, err)
	case err != nil:
		return nil, fmt.Errorf("open database: %w", err)
	}
	bdb.MaxBatchDelay = batchDelay
	db := &DB{bolt: bdb, path: path, now: opts.Now, noBatch: opts.NoBatch, feed: newFeed()}
	if err := db.upgrade(steps); err != nil {
		_ = bdb.Close()
		return nil, err
	}
	return db, nil
}

// batchDelay is how long a batch waits for more writers before it commits.
// bbolt's default, 10ms, suits disks whose fsync takes about as long; where
// a commit takes a millisecond or two, 64 concurrent writers committed
// about twice as many commands per second at 2ms as at 10ms
// (BenchmarkAppend), and each command waits 8ms less.
const batchDelay = 2 * time.Millisecond

// openBolt is bbolt.Open made safe for a damaged file: a panic, or a memory
// fault on a mapped page, becomes an error, and the file it opened is closed
// so its lock does not outlive the failure.
func openBolt(path string, o *bbolt.Options) (db *bbolt.DB, err error) {
	var file *os.File
	o.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		file = f
		return f, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if file != nil {
				_ = file.Close()
			}
			db, err = nil, panicError{r}
		}
	}()
	return bbolt.Open(path, 0o600, o)
}

// upgrade runs the migrations the file has not had, in one transaction,
// after a read-only look: a current file is opened without a write.
func (db *DB) upgrade(steps []migration) error {
	var v uint64
	err := db.view(func(tx *bbolt.Tx) error {
		var err error
		v, err = schemaVersion(tx)
		return err
	})
	if err != nil {
		return db.damaged(err)
	}
	if v > uint64(len(steps)) {
		return &OpenError{Path: db.path, Kind: ErrSchemaTooNew, Schema: v, Supported: uint64(len(steps))}
	}
	if v < uint64(len(steps)) && db.bolt.IsReadOnly() {
		return fmt.Errorf("open %s: schema version %d is older than this ooda's (%d), and reading it must not change it; run ooda serve on it once, which upgrades it", db.path, v, len(steps))
	}
	if v < uint64(len(steps)) {
		err := db.update(func(tx *bbolt.Tx) error { return migrate(tx, steps) })
		if errors.Is(err, ErrCorrupt) {
			return db.damaged(err)
		}
		if err != nil {
			return fmt.Errorf("open %s: %w", db.path, err)
		}
	}
	if err := db.view(checkBuckets); err != nil {
		return db.damaged(err)
	}
	return nil
}

// damaged words a problem found while opening as ErrCorrupt.
func (db *DB) damaged(err error) error {
	var p panicError
	if errors.As(err, &p) {
		err = p
	}
	return corrupt(db.path, err)
}

// The on-disk layout of a bbolt meta page, which bbolt keeps in internal
// packages: a 16-byte page header, then magic, version, page size, flags
// (uint32 each), root bucket page and sequence, free-list page, high-water
// page id and transaction id (uint64 each), and an FNV-64a checksum of the
// bytes before it. Integers are in the host's byte order.
const (
	pageHeaderSize = 16
	metaSize       = 64
	metaChecksumAt = 56
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	noFreelist     = ^uint64(0)
)

type boltMeta struct {
	pageSize           uint32
	root, freelist     uint64
	highWater          uint64
	magicOK, versionOK bool
	checksumOK         bool
}

func parseMeta(page []byte) boltMeta {
	b := page[pageHeaderSize : pageHeaderSize+metaSize]
	le := binary.NativeEndian
	h := fnv.New64a()
	h.Write(b[:metaChecksumAt])
	return boltMeta{
		magicOK:    le.Uint32(b[0:]) == boltMagic,
		versionOK:  le.Uint32(b[4:]) == boltVersion,
		pageSize:   le.Uint32(b[8:]),
		root:       le.Uint64(b[16:]),
		freelist:   le.Uint64(b[32:]),
		highWater:  le.Uint64(b[40:]),
		checksumOK: le.Uint64(b[metaChecksumAt:]) == h.Sum64(),
	}
}

func (m boltMeta) valid() bool {
	return m.magicOK && m.versionOK && m.checksumOK && m.pageSize >= 512 && m.pageSize&(m.pageSize-1) == 0
}

func (m boltMeta) problem() error {
	switch {
	case !m.magicOK:
		return errors.New("no bbolt header")
	case !m.versionOK:
		return errors.New("unknown bbolt format version")
	case !m.checksumOK:
		return errors.New("meta page checksum mismatch")
	}
	return fmt.Errorf("impossible page size %d", m.pageSize)
}

// sniff checks what bbolt would trust blindly: that the file starts with a
// valid meta page and that every valid meta page's pages lie inside the
// file. A missing or empty file passes: bbolt initialises it. It reads the
// file without a lock, which is safe against a live writer: bbolt writes
// one meta page per commit and grows the file before it writes a meta page
// that needs the room, so one of the two is always whole and in bounds.
func sniff(path string) error {
	f, err := os.Open(path)
	if err != nil {
		// A missing file is created; permissions and the like are reported
		// by bbolt in its own words.
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return nil
	}
	size := st.Size()
	read := func(off int64) ([]byte, bool) {
		buf := make([]byte, pageHeaderSize+metaSize)
		n, _ := f.ReadAt(buf, off)
		return buf, n == len(buf)
	}
	first, ok := read(0)
	if !ok {
		return fmt.Errorf("the file is %d bytes, too short for a database", size)
	}
	m0 := parseMeta(first)
	pageSize := int64(0)
	if m0.valid() {
		pageSize = int64(m0.pageSize)
	} else {
		// The first meta page may be torn by a crash; bbolt then finds the
		// second by trying every page size it supports, and so do we.
		for i := range 15 {
			buf, ok := read(1024 << i)
			if !ok {
				break
			}
			if m := parseMeta(buf); m.valid() && int64(m.pageSize) == 1024<<i {
				pageSize = int64(m.pageSize)
				break
			}
		}
	}
	if pageSize == 0 {
		return m0.problem()
	}
	var valid int
	for id := range int64(2) {
		buf, ok := read(id * pageSize)
		if !ok {
			continue
		}
		m := parseMeta(buf)
		if !m.valid() {
			continue
		}
		valid++
		need := int64(m.highWater) * pageSize
		if m.highWater > uint64(1<<62)/uint64(pageSize) || need > size {
			return fmt.Errorf("the file is %d bytes but its last commit needs %d: it was truncated", size, need)
		}
		if m.root >= m.highWater || (m.freelist != noFreelist && m.freelist >= m.highWater) {
			return errors.New("meta page points past the end of the data")
		}
	}
	if valid == 0 {
		return m0.problem()
	}
	return nil
}
