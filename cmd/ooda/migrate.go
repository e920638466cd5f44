package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/etcd"
)

// runMigrate is `ooda migrate --from PATH.db --to etcd`: it copies a bbolt
// file into an empty etcd prefix (OODA_ETCD_* or their flags), or into
// one where a migration of the same file was cut short, then checks the
// copy.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the bbolt database file to copy (ooda serve must not be running on it)")
	to := fs.String("to", "", "where to copy it: etcd (the endpoints and prefix from OODA_ETCD_* or the flags below)")
	// The etcd settings are serve's; OODA_DB is --from here, not a
	// second store to refuse.
	getenv := func(k string) string {
		if k == "OODA_DB" || k == "OODA_DB_FILE" {
			return ""
		}
		return os.Getenv(k)
	}
	cfg, err := app.LoadConfig(fs, args, getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageErr("migrate: %v", err)
	}
	switch {
	case *from == "" || *to == "":
		return usageErr("usage: ooda migrate --from PATH.db --to etcd   (with OODA_ETCD_ENDPOINTS set, or --etcd-endpoints)")
	case *to != "etcd":
		return usageErr("--to %q: the one destination is etcd", *to)
	case len(cfg.EtcdEndpoints) == 0:
		return usageErr("migrate: name the etcd cluster with OODA_ETCD_ENDPOINTS or --etcd-endpoints")
	}
	source, err := filepath.Abs(*from)
	if err != nil {
		return err
	}
	src, err := storage.Open(source, storage.Options{})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer src.Close()
	opts := app.Options{}
	dst, err := app.OpenStore(ctx, cfg, &opts)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer dst.Close()
	st, ok := dst.(*etcd.Store)
	if !ok {
		return errors.New("migrate: the destination is not etcd")
	}
	n, err := migrate(ctx, source, src, st, stdout)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stdout, "migrated %d incidents from %s to etcd %s; every incident folds the same on both sides\n", n, source, st.Prefix())
	return nil
}

// migrate copies src into dst and checks the copy; it returns how many
// incidents it copied.
func migrate(ctx context.Context, source string, src *storage.DB, dst *etcd.Store, stdout io.Writer) (int, error) {
	m, marked, err := dst.Migration(ctx)
	if err != nil {
		return 0, err
	}
	holds, err := dst.Holds(ctx)
	if err != nil {
		return 0, err
	}
	switch {
	case marked && m.Source == source && m.Finished.IsZero():
		fmt.Fprintf(stdout, "resuming the migration of %s started %s: the prefix is cleared and loaded again\n", source, m.Started.Format(time.RFC3339))
		if err := dst.ClearForMigration(ctx); err != nil {
			return 0, err
		}
	case marked && m.Source == source:
		return 0, fmt.Errorf("%s was migrated into %s already (finished %s)", source, dst.Prefix(), m.Finished.Format(time.RFC3339))
	case marked || holds:
		return 0, fmt.Errorf("%s holds other data; migrate into an empty prefix (OODA_ETCD_PREFIX)", dst.Prefix())
	default:
		m = etcd.Migration{Source: source, Started: time.Now().UTC()}
		if err := dst.SetMigration(ctx, m); err != nil {
			return 0, err
		}
	}
	var items []storage.Item
	if err := src.Dump(ctx, func(it storage.Item) error { items = append(items, it); return nil }); err != nil {
		return 0, err
	}
	if err := dst.Load(ctx, items); err != nil {
		return 0, err
	}
	n, err := verifyCopy(ctx, src, dst)
	if err != nil {
		return 0, err
	}
	m.Finished = time.Now().UTC()
	return n, dst.SetMigration(ctx, m)
}

// verifyCopy compares the two stores: the same number of each kind of
// item, and every incident folding to the same state on both sides.
func verifyCopy(ctx context.Context, src *storage.DB, dst *etcd.Store) (int, error) {
	count := func(dump func(context.Context, func(storage.Item) error) error) (map[string]int, []uint64, error) {
		c := map[string]int{}
		var incidents []uint64
		err := dump(ctx, func(it storage.Item) error {
			switch {
			case it.Log != nil:
				c["incidents"]++
				c["events"] += len(it.Log.Events)
				incidents = append(incidents, it.Log.Number)
			case it.Dedupe != nil:
				c["idempotency keys"]++
			case it.Pending != nil:
				c["queued effects"]++
			case it.Effect != nil:
				c["effect results"]++
			case it.Message != nil:
				c["transcript messages"]++
			case it.SLO != nil:
				c["SLO states"]++
			case it.Person != nil:
				c["people"]++
			case it.Session != nil:
				c["web sessions"]++
			}
			return nil
		})
		return c, incidents, err
	}
	want, incidents, err := count(src.Dump)
	if err != nil {
		return 0, err
	}
	got, _, err := count(dst.Dump)
	if err != nil {
		return 0, err
	}
	if !reflect.DeepEqual(want, got) {
		return 0, fmt.Errorf("the copy holds %v, the source %v", got, want)
	}
	for _, n := range incidents {
		a, err := src.Events(ctx, n, 1)
		if err != nil {
			return 0, err
		}
		b, err := dst.Events(ctx, n, 1)
		if err != nil {
			return 0, err
		}
		if !reflect.DeepEqual(incident.Replay(a), incident.Replay(b)) {
			return 0, fmt.Errorf("%s does not fold the same in the copy", incident.ID(n))
		}
		snap, err := dst.Incident(ctx, n)
		if err != nil {
			return 0, err
		}
		if !reflect.DeepEqual(snap, incident.Replay(b)) {
			return 0, fmt.Errorf("%s: the copy's snapshot is not the fold of its events", incident.ID(n))
		}
	}
	return len(incidents), nil
}
