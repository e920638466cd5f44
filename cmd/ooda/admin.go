package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
)

// parseFlags parses a tool's flags, turning -h into a clean exit and any
// other mistake into exit status 2.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: 2, err: err}
	}
	return nil
}

func usageErr(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", os.Getenv("OODA_DB"), "path of the bbolt database file (env OODA_DB)")
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := dbFlag(fs)
	id := fs.String("incident", "", "incident number, e.g. 7 or INC-7")
	format := fs.String("format", "json", "output format: json (incident and events), md or html (post-mortem draft)")
	out := fs.String("o", "", "write to this file instead of standard output")
	if err := parseFlags(fs, args); err != nil {
		return ignoreHelp(err)
	}
	if *db == "" || *id == "" {
		return usageErr("export needs --db PATH and --incident N")
	}
	n, err := incident.ParseID(*id)
	if err != nil {
		return usageErr("--incident: %w", err)
	}
	if *format != "json" && *format != "md" && *format != "html" {
		return usageErr("--format %q: use json, md or html", *format)
	}
	store, err := storage.Open(*db, storage.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	if *format != "json" {
		return exportPostmortemTo(ctx, store, n, *format, *out, stdout)
	}
	inc, err := api.LoadIncident(ctx, store, n)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(inc, "", "  ")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	b = append(b, '\n')
	if *out == "" {
		_, err = stdout.Write(b)
		return err
	}
	return writeFileAtomic(*out, b)
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := dbFlag(fs)
	server := fs.String("url", os.Getenv("OODA_URL"), "when the database is in use, ask the ooda server at this URL for the copy (env OODA_URL; token from OODA_API_TOKEN)")
	if err := parseFlags(fs, args); err != nil {
		return ignoreHelp(err)
	}
	etcdEndpoints := os.Getenv("OODA_ETCD_ENDPOINTS")
	if fs.NArg() != 1 || (*db == "" && *server == "" && etcdEndpoints == "") {
		return usageErr("usage: ooda backup --db PATH OUT   (or --url URL OUT for a running server, or OODA_ETCD_ENDPOINTS set for etcd)")
	}
	out := fs.Arg(0)
	if *db == "" && *server == "" {
		return backupEtcd(ctx, out, stdout)
	}
	if *db != "" {
		store, err := storage.Open(*db, storage.Options{})
		switch {
		case err == nil:
			defer store.Close()
			if err := store.BackupFile(ctx, out); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "backed up %s to %s\n", *db, out)
			return nil
		case !errors.Is(err, storage.ErrLocked) || *server == "":
			if errors.Is(err, storage.ErrLocked) {
				return fmt.Errorf("%w\nooda serve holds it: copy it through the server with `ooda backup --url http://HOST:8080 %s` (OODA_API_TOKEN set)", err, out)
			}
			return err
		}
	}
	n, err := backupFromServer(ctx, *server, os.Getenv("OODA_API_TOKEN"), out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %d bytes from %s to %s\n", n, *server, out)
	return nil
}

// backupFromServer downloads GET /api/v1/backup into out, atomically.
func backupFromServer(ctx context.Context, base, token, out string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/api/v1/backup", nil)
	if err != nil {
		return 0, fmt.Errorf("backup: --url: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&e)
		return 0, fmt.Errorf("backup: server answered %s: %s", resp.Status, e.Error)
	}
	tmp := out + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	n, err := io.Copy(f, resp.Body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("backup: download interrupted: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := dbFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return ignoreHelp(err)
	}
	if *db == "" {
		return usageErr("usage: ooda check --db PATH")
	}
	store, err := storage.Open(*db, storage.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Check(ctx); err != nil {
		return fmt.Errorf("%s is damaged: %w", *db, err)
	}
	fmt.Fprintf(stdout, "%s: ok\n", *db)
	return nil
}

func ignoreHelp(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// writeFileAtomic writes b to path through a temporary file and a rename,
// so a reader never sees half a file.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// backupEtcd copies the etcd store OODA_ETCD_* names, read at one
// revision, into a bbolt file at out: a file `ooda check` accepts and
// `ooda serve --db` starts from.
func backupEtcd(ctx context.Context, out string, stdout io.Writer) error {
	cfg := app.DefaultConfig()
	cfg.EtcdEndpoints = app.SplitList(os.Getenv("OODA_ETCD_ENDPOINTS"))
	cfg.EtcdPrefix = cmp.Or(os.Getenv("OODA_ETCD_PREFIX"), cfg.EtcdPrefix)
	cfg.EtcdCACert, cfg.EtcdCert, cfg.EtcdKey = os.Getenv("OODA_ETCD_CACERT"), os.Getenv("OODA_ETCD_CERT"), os.Getenv("OODA_ETCD_KEY")
	cfg.EtcdUsername, cfg.EtcdPassword = os.Getenv("OODA_ETCD_USERNAME"), os.Getenv("OODA_ETCD_PASSWORD")
	opts := app.Options{}
	st, err := app.OpenStore(ctx, cfg, &opts)
	if err != nil {
		return err
	}
	defer st.Close()
	tmp := out + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	n, err := st.Backup(ctx, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %d bytes from etcd %s to %s\n", n, cfg.EtcdPrefix, out)
	return nil
}
