package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
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
	server := fs.String("url", os.Getenv("OODA_URL"), "when the database is in use, ask the ooda server at this URL for the export (env OODA_URL; token from OODA_API_TOKEN)")
	id := fs.String("incident", "", "incident number, e.g. 7 or INC-7")
	format := fs.String("format", "json", "output format: json (incident and events), md or html (post-mortem draft)")
	out := fs.String("o", "", "write to this file instead of standard output")
	if err := parseFlags(fs, args); err != nil {
		return ignoreHelp(err)
	}
	if (*db == "" && *server == "") || *id == "" {
		return usageErr("export needs --db PATH (or --url URL for a running server) and --incident N")
	}
	n, err := incident.ParseID(*id)
	if err != nil {
		return usageErr("--incident: %w", err)
	}
	if *format != "json" && *format != "md" && *format != "html" {
		return usageErr("--format %q: use json, md or html", *format)
	}
	var b []byte
	if *db != "" {
		store, err := storage.OpenReadOnly(*db, storage.Options{})
		switch {
		case err == nil:
			defer store.Close()
			b, err = exportLocal(ctx, store, n, *format)
			if err != nil {
				return err
			}
		case errors.Is(err, storage.ErrLocked) && *server == "":
			again := fmt.Sprintf("ooda export --url http://HOST:8080 --incident %s --format %s", incident.ID(n), *format)
			if *out != "" {
				again += " -o " + *out
			}
			return fmt.Errorf("%w\nooda serve holds it: get the same export from the server with `%s` (OODA_API_TOKEN set)", err, again)
		case !errors.Is(err, storage.ErrLocked):
			return err
		}
	}
	if b == nil {
		if b, err = exportFromServer(ctx, *server, os.Getenv("OODA_API_TOKEN"), n, *format); err != nil {
			return err
		}
	}
	if *out == "" {
		// Piped or redirected, the export is data and goes out as it is;
		// on a terminal it is read, and no control character in it (a
		// C1 control or bidi override JSON leaves as it is) reaches it.
		if isTerminal(stdout) {
			tw := newTerminalWriter(stdout, false)
			stdout = tw
			defer tw.Flush()
		}
		_, err = stdout.Write(b)
		return err
	}
	return writeFileAtomic(*out, b)
}

// exportLocal renders incident n from the database file: its post-mortem
// draft (md, html) or the incident and its events as indented JSON.
func exportLocal(ctx context.Context, store *storage.DB, n uint64, format string) ([]byte, error) {
	if format != "json" {
		return exportPostmortem(ctx, store, n, format)
	}
	inc, err := api.LoadIncident(ctx, store, n)
	if err != nil {
		return nil, err
	}
	dir, err := storedPeople(ctx, store)
	if err != nil {
		return nil, err
	}
	inc.People = api.PeopleOf(inc.Events, dir.Name)
	return exportJSON(inc)
}

// exportJSON is the JSON `ooda export` writes, whether the incident came
// from the file or from a server.
func exportJSON(inc api.IncidentWithEvents) ([]byte, error) {
	b, err := json.MarshalIndent(inc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return append(b, '\n'), nil
}

// exportFromServer asks a running ooda for what exportLocal would write:
// GET /api/v1/incidents/{n}, re-encoded as the local export encodes it, or
// the post-mortem draft from GET /api/v1/incidents/{n}/postmortem (whose
// error budget the server fills in when it can ask Prometheus).
func exportFromServer(ctx context.Context, base, token string, n uint64, format string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	path := "/api/v1/incidents/" + strconv.FormatUint(n, 10)
	if format != "json" {
		path += "/postmortem?format=" + format
	}
	body, err := serverGet(ctx, base, token, path)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("export: reading the server's answer: %w", err)
	}
	if format != "json" {
		return b, nil
	}
	var inc api.IncidentWithEvents
	if err := json.Unmarshal(b, &inc); err != nil {
		return nil, fmt.Errorf("export: the server at %s answered with something other than an incident: %w", base, err)
	}
	return exportJSON(inc)
}

// serverGet sends an authenticated GET to a running ooda and returns the
// body of a 200 answer; any other answer is an error carrying the
// server's own message.
func serverGet(ctx context.Context, base, token, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+path, nil)
	if err != nil {
		return nil, fmt.Errorf("--url: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the ooda server (is `ooda serve` running at %s?): %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&e)
		return nil, fmt.Errorf("server answered %s: %s", resp.Status, e.Error)
	}
	return resp.Body, nil
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := dbFlag(fs)
	server := fs.String("url", os.Getenv("OODA_URL"), "when the database is in use, ask the ooda server at this URL for the copy (env OODA_URL; token from OODA_API_TOKEN)")
	force := fs.Bool("force", false, "replace OUT if it exists (never a database a running ooda uses)")
	if err := parseFlags(fs, args); err != nil {
		return ignoreHelp(err)
	}
	etcdEndpoints := os.Getenv("OODA_ETCD_ENDPOINTS")
	if fs.NArg() != 1 || (*db == "" && *server == "" && etcdEndpoints == "") {
		return usageErr("usage: ooda backup [--force] --db PATH OUT   (or --url URL OUT for a running server, or OODA_ETCD_ENDPOINTS set for etcd)")
	}
	out := fs.Arg(0)
	opts := storage.FileOptions{Replace: *force}
	if *db == "" && *server == "" {
		return backupHint(backupEtcd(ctx, out, opts, stdout))
	}
	if *db != "" {
		// Open would create a missing file and back up an empty database.
		if _, err := os.Stat(*db); errors.Is(err, iofs.ErrNotExist) {
			return fmt.Errorf("no database at %s: %w", *db, iofs.ErrNotExist)
		}
		store, err := storage.Open(*db, storage.Options{})
		switch {
		case err == nil:
			defer store.Close()
			if err := store.BackupFile(ctx, out, opts); err != nil {
				return backupHint(err)
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
	n, err := backupFromServer(ctx, *server, os.Getenv("OODA_API_TOKEN"), out, opts)
	if err != nil {
		return backupHint(err)
	}
	fmt.Fprintf(stdout, "backed up %d bytes from %s to %s\n", n, *server, out)
	return nil
}

// backupHint adds to a refusal to replace a file what to type instead.
func backupHint(err error) error {
	if errors.Is(err, storage.ErrExists) {
		return fmt.Errorf("%w; pass --force to replace it, or choose a new path", err)
	}
	return err
}

// backupFromServer copies GET /api/v1/backup into out the way a local
// backup is written (storage.WriteBackupFile): checked, then renamed.
func backupFromServer(ctx context.Context, base, token, out string, opts storage.FileOptions) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	return storage.WriteBackupFile(ctx, out, opts, func(w io.Writer) (int64, error) {
		body, err := serverGet(ctx, base, token, "/api/v1/backup")
		if err != nil {
			return 0, fmt.Errorf("backup: %w", err)
		}
		defer body.Close()
		n, err := io.Copy(w, body)
		if err != nil {
			return n, fmt.Errorf("backup: download interrupted: %w", err)
		}
		return n, nil
	})
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
	store, err := storage.OpenReadOnly(*db, storage.Options{})
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

// writeFileAtomic writes b to path through a temporary file beside it
// and a rename, so a reader never sees half a file.
func writeFileAtomic(path string, b []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// backupEtcd copies the etcd store OODA_ETCD_* names, read at one
// revision, into a bbolt file at out: a file `ooda check` accepts and
// `ooda serve --db` starts from.
func backupEtcd(ctx context.Context, out string, opts storage.FileOptions, stdout io.Writer) error {
	cfg := app.DefaultConfig()
	cfg.EtcdEndpoints = app.SplitList(os.Getenv("OODA_ETCD_ENDPOINTS"))
	cfg.EtcdPrefix = cmp.Or(os.Getenv("OODA_ETCD_PREFIX"), cfg.EtcdPrefix)
	cfg.EtcdCACert, cfg.EtcdCert, cfg.EtcdKey = os.Getenv("OODA_ETCD_CACERT"), os.Getenv("OODA_ETCD_CERT"), os.Getenv("OODA_ETCD_KEY")
	cfg.EtcdUsername, cfg.EtcdPassword = os.Getenv("OODA_ETCD_USERNAME"), os.Getenv("OODA_ETCD_PASSWORD")
	appOpts := app.Options{}
	st, err := app.OpenStore(ctx, cfg, &appOpts)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := storage.WriteBackupFile(ctx, out, opts, func(w io.Writer) (int64, error) { return st.Backup(ctx, w) })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %d bytes from etcd %s to %s\n", n, cfg.EtcdPrefix, out)
	return nil
}
