package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the database to w while other
// commands keep writing: it copies the pages of one read transaction
// (bbolt's tx.WriteTo), so the copy is the database as of the moment it
// began. It returns the number of bytes written. Cancelling ctx stops the
// copy at its next write.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int64
	err := db.view(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx: ctx, w: w})
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backup %s: %w", db.path, err)
	}
	return n, nil
}

// ctxWriter fails a write once its context is done, so a long copy can be
// stopped between chunks.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// ErrExists means a backup would replace a file that is already there,
// which it does only when asked (FileOptions.Replace).
var ErrExists = errors.New("a file is already there")

// ErrInUse means a backup would replace the database a running ooda holds
// open. It is refused whatever FileOptions say: the server would go on
// writing to the file the rename unlinked, and everything it wrote from
// then on would be gone at its next restart.
var ErrInUse = errors.New("a running ooda is using that file as its database")

// FileOptions says what a backup written to a file may replace.
type FileOptions struct {
	// Replace lets the backup replace a file already at its path, unless a
	// running ooda holds that file (ErrInUse).
	Replace bool
}

// inUseWait is how long a backup tries for a reader's lock on the file it
// would replace before it takes the file for a running ooda's database.
const inUseWait = 200 * time.Millisecond

// BackupFile writes a backup of the database to path (see WriteBackupFile).
func (db *DB) BackupFile(ctx context.Context, path string, opts FileOptions) error {
	if same(path, db.path) {
		return fmt.Errorf("backup to %s: that is the database itself; choose another file", path)
	}
	_, err := WriteBackupFile(ctx, path, opts, func(w io.Writer) (int64, error) { return db.Backup(ctx, w) })
	return err
}

// WriteBackupFile writes the database copy that write produces (a local
// store's Backup, or a server's answer to GET /api/v1/backup) to path,
// mode 0600 like the database itself. The copy goes to a temporary file
// beside path, is fsynced and passes bbolt's consistency check before it
// is renamed into place, and the directory is synced after, so path is
// always either what it was or a whole, sound new copy. It refuses,
// before copying and again just before the rename, a path that exists
// (ErrExists) unless opts.Replace, and the database of a running ooda
// (ErrInUse) in any case; it holds a reader's lock on the file it
// replaces across the rename, so no server can open it in between. It
// returns the number of bytes written.
func WriteBackupFile(ctx context.Context, path string, opts FileOptions, write func(io.Writer) (int64, error)) (n int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// Refused early, before a long copy is thrown away.
	release, err := claim(path, opts)
	if err != nil {
		return 0, err
	}
	release()
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if n, err = write(tmp); err != nil {
		return n, err
	}
	if err := tmp.Sync(); err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	if err := checkFile(tmp.Name()); err != nil {
		return n, fmt.Errorf("backup: the copy failed its check: %w", err)
	}
	release, err = claim(path, opts)
	if err != nil {
		return n, err
	}
	defer release()
	if err := place(tmp.Name(), path, opts); err != nil {
		return n, err
	}
	// The rename is durable only once the directory entry is on disk.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		err = d.Sync()
		_ = d.Close()
		if err != nil {
			return n, fmt.Errorf("backup: sync directory: %w", err)
		}
	}
	return n, nil
}

// claim says whether a backup may be renamed to path and, when the file
// there is a database, holds a reader's lock on it until release: bbolt
// lets readers share a file only with readers, so a server cannot hold it
// meanwhile, and a lock that cannot be had means one does.
func claim(path string, opts FileOptions) (release func(), err error) {
	none := func() {}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return none, nil
	} else if err != nil {
		return nil, fmt.Errorf("backup to %s: %w", path, err)
	}
	// A database a server uses is refused before ErrExists, so the person
	// is told the reason --force cannot lift.
	if sniff(path) == nil {
		bdb, err := openBolt(path, &bbolt.Options{ReadOnly: true, Timeout: inUseWait})
		switch {
		case errors.Is(err, bbolt.ErrTimeout):
			pid := "pid unknown"
			if p, ok := lockHolder(path); ok {
				pid = "pid " + strconv.Itoa(p)
			}
			return nil, fmt.Errorf("backup to %s: %w (%s); replacing it would lose what the server writes from now on, so it is never replaced: write the backup to another path", path, ErrInUse, pid)
		case err == nil:
			none = func() { _ = bdb.Close() }
		}
		// Any other error: not a database bbolt can open, so no server
		// is using it.
	}
	if !opts.Replace {
		none()
		return nil, fmt.Errorf("backup to %s: %w", path, ErrExists)
	}
	return none, nil
}

// place moves the finished copy tmp to path. Without opts.Replace it links
// rather than renames, which fails if a file appeared at path meanwhile.
func place(tmp, path string, opts FileOptions) error {
	if !opts.Replace {
		err := os.Link(tmp, path)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("backup to %s: %w", path, ErrExists)
		}
		if err == nil {
			_ = os.Remove(tmp)
			return nil
		}
		// A file system without hard links: claim has just seen no file.
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

func same(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// checkFile runs bbolt's consistency check on a closed file.
func checkFile(path string) error {
	if err := sniff(path); err != nil {
		return err
	}
	bdb, err := openBolt(path, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	var errs []error
	err = bdb.View(func(tx *bbolt.Tx) error {
		for e := range tx.Check() {
			errs = append(errs, e)
		}
		return nil
	})
	errs = append(errs, err, bdb.Close())
	return errors.Join(errs...)
}
