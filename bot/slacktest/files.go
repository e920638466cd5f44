package slacktest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// uploadPath is where upload URLs point. They live on the API's own host
// because slack-go only sends the bearer token to an https Slack host or to
// the host set with OptionAPIURL.
const uploadPath = "/upload/v1/"

// UploadMethod is the Call.Method recorded for a POST to an upload URL handed
// out by files.getUploadURLExternal. It is not a Web API method, but faults can
// target it like one.
const UploadMethod = "upload_url"

// File is a snapshot of a file uploaded through the external upload flow.
type File struct {
	ID, Name, Title string
	// Length is the size declared to files.getUploadURLExternal.
	Length int
	// Content is what was POSTed to the upload URL.
	Content []byte
	// Uploaded reports that the bytes arrived; Completed that
	// files.completeUploadExternal finished the upload.
	Uploaded, Completed bool
	// Channels are the channels the file was shared into.
	Channels       []string
	InitialComment string
}

type file struct {
	File
	sig     string // the upload URL's secret, as Slack's URLs carry one
	created time.Time
}

func (f *file) snapshot() File {
	out := f.File
	out.Content = slices.Clone(f.Content)
	out.Channels = slices.Clone(f.Channels)
	return out
}

// Files returns every file an upload was started for, in order.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]File, len(s.files))
	for i, f := range s.files {
		out[i] = f.snapshot()
	}
	return out
}

func (s *Server) fileByID(id string) *file {
	for _, f := range s.files {
		if f.ID == id {
			return f
		}
	}
	return nil
}

func (s *Server) filesGetUploadURLExternal(args map[string]string) reply {
	name := args["filename"]
	if name == "" {
		return fail("invalid_arguments")
	}
	length, err := strconv.Atoi(args["length"])
	if err != nil {
		return fail("invalid_arguments")
	}
	if length <= 0 {
		return fail("missing_argument")
	}
	f := &file{File: File{ID: s.newID("F"), Name: name, Length: length}, sig: newSig(), created: s.now()}
	s.files = append(s.files, f)
	return ok(map[string]any{
		"upload_url": s.srv.URL + uploadPath + f.ID + "?sig=" + f.sig,
		"file_id":    f.ID,
	})
}

func newSig() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// serveUpload receives the bytes of a file, sent raw or, as slack-go does, as
// the "file" part of a multipart form. Like Slack's upload host it needs no
// token: the URL's signature is the credential.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, uploadPath)
	sig := r.URL.Query().Get("sig")
	name, data, readErr := readUpload(w, r)
	idx, f, faulted := s.arrive(UploadMethod, map[string]string{
		"file_id": id, "filename": name, "length": strconv.Itoa(len(data)),
	})
	store := func() int {
		if readErr != nil {
			return http.StatusBadRequest
		}
		return s.storeUpload(id, sig, data)
	}
	if faulted && !s.applyFault(w, r, idx, f, func() { store() }) {
		return
	}
	status := store()
	errCode := ""
	if status != http.StatusOK {
		errCode = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
	}
	s.finish(idx, status, errCode)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	if status == http.StatusOK {
		_, _ = fmt.Fprintf(w, "OK - %d", len(data))
	}
}

// readUpload returns the uploaded bytes and, for a multipart body, the file
// name the client gave.
func readUpload(w http.ResponseWriter, r *http.Request) (string, []byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	defer func() { _, _ = io.Copy(io.Discard, r.Body) }()
	mr, err := r.MultipartReader()
	if err != nil { // not multipart: the body is the file
		data, err := io.ReadAll(r.Body)
		return "", data, err
	}
	var name string
	var data []byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return name, data, nil
		}
		if err != nil {
			return name, data, err
		}
		b, err := io.ReadAll(part)
		if err != nil {
			return name, data, err
		}
		if part.FormName() == "file" || (data == nil && part.FileName() != "") {
			name, data = part.FileName(), b
		}
	}
}

// storeUpload keeps the bytes of an upload and returns the HTTP status the
// upload host answers.
func (s *Server) storeUpload(id, sig string, data []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fileByID(id)
	if f == nil || f.sig != sig || f.Completed {
		return http.StatusNotFound
	}
	f.Content, f.Uploaded = bytes.Clone(data), true
	return http.StatusOK
}

// filesCompleteUploadExternal finishes uploads and shares them: one file_share
// message per channel, carrying every file. An upload can be completed once;
// after that its ticket is gone and completing again answers file_not_found.
// An unknown channel is invalid_channel here, not channel_not_found.
func (s *Server) filesCompleteUploadExternal(args map[string]string) reply {
	var summaries []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if json.Unmarshal([]byte(args["files"]), &summaries) != nil || len(summaries) == 0 {
		return fail("invalid_arguments")
	}
	files := make([]*file, len(summaries))
	for i, sum := range summaries {
		f := s.fileByID(sum.ID)
		if f == nil || !f.Uploaded || f.Completed {
			return fail("file_not_found")
		}
		files[i] = f
	}
	var targets []*channel
	refs := strings.Split(args["channels"], ",")
	if id := args["channel_id"]; id != "" {
		refs = append([]string{id}, refs...)
	}
	for _, ref := range refs {
		if ref = strings.TrimSpace(ref); ref == "" {
			continue
		}
		c := s.channelByID(ref)
		if c == nil {
			return fail("invalid_channel")
		}
		if !slices.Contains(targets, c) {
			targets = append(targets, c)
		}
	}
	var blocks json.RawMessage
	if raw, ok := args["blocks"]; ok {
		body, code := readContent(map[string]string{"blocks": raw})
		if code != "" {
			return fail(code)
		}
		blocks = body.blocks
	}

	ids := make([]string, len(files))
	out := make([]map[string]any, len(files))
	for i, f := range files {
		f.Completed = true
		f.Title = summaries[i].Title
		if f.Title == "" {
			f.Title = f.Name
		}
		f.InitialComment = args["initial_comment"]
		ids[i] = f.ID
		out[i] = map[string]any{"id": f.ID, "title": f.Title}
	}
	for _, c := range targets {
		m := &message{text: args["initial_comment"], files: slices.Clone(ids), blocks: blocks}
		s.post(c, m, args["thread_ts"], false)
		for _, f := range files {
			f.Channels = append(f.Channels, c.id)
		}
	}
	return ok(map[string]any{"files": out})
}

// fileJSON renders a file as it appears in a file_share message.
func (s *Server) fileJSON(f *file) map[string]any {
	ext := strings.TrimPrefix(strings.ToLower(path.Ext(f.Name)), ".")
	if ext == "" {
		ext = "text"
	}
	var public, private []string
	for _, id := range f.Channels {
		if c := s.channelByID(id); c != nil && c.private {
			private = append(private, id)
		} else {
			public = append(public, id)
		}
	}
	base := "https://files.slack.com/files-pri/" + s.cfg.teamID + "-" + f.ID + "/"
	return map[string]any{
		"id":                   f.ID,
		"created":              f.created.Unix(),
		"timestamp":            f.created.Unix(),
		"name":                 f.Name,
		"title":                f.Title,
		"mimetype":             mimeType(f.Name, f.Content),
		"filetype":             ext,
		"pretty_type":          ext,
		"user":                 s.cfg.botUserID,
		"user_team":            s.cfg.teamID,
		"editable":             false,
		"size":                 len(f.Content),
		"mode":                 "hosted",
		"is_external":          false,
		"external_type":        "",
		"is_public":            len(private) == 0 && len(public) > 0,
		"public_url_shared":    false,
		"display_as_bot":       false,
		"username":             "",
		"url_private":          base + f.Name,
		"url_private_download": base + "download/" + f.Name,
		"permalink":            "https://" + s.domain() + ".slack.com/files/" + s.cfg.botUserID + "/" + f.ID + "/" + f.Name,
		"permalink_public":     "https://slack-files.com/" + s.cfg.teamID + "-" + f.ID + "-" + f.sig[:10],
		"channels":             nonNil(public),
		"groups":               nonNil(private),
		"ims":                  []string{},
		"comments_count":       0,
		"file_access":          "visible",
		"has_rich_preview":     false,
	}
}

func mimeType(name string, content []byte) string {
	t := mime.TypeByExtension(path.Ext(name))
	if t == "" {
		t = http.DetectContentType(content)
	}
	if mt, _, err := mime.ParseMediaType(t); err == nil {
		return mt
	}
	return t
}

// nonNil makes an empty list encode as [] rather than null, as Slack sends it.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
