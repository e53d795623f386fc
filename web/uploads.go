package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
)

// imageTypes are the cover image types accepted, by sniffed content type, with the file
// extension they are stored under.
var imageTypes = map[string]string{"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}

var uploadName = regexp.MustCompile(`^[a-f0-9]{32}\.(png|jpg|gif|webp)$`)

// uploadCover stores a cover image (type sniffed from its bytes, not trusted from the
// client; size capped by UploadLimit) and sets it on the post.
func (s *Server) uploadCover(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.setCover(c, id); err != nil {
		return s.editorSideError(c, id, "cover", err)
	}
	return seeOther(c, "/admin/posts/"+strconv.FormatInt(id, 10)+"/edit?done=cover")
}

// setCover stores the uploaded image and sets it as post id's cover.
func (s *Server) setCover(c echo.Context, id int64) error {
	ctx := c.Request().Context()
	p, err := s.cms.Posts.Get(ctx, id)
	if err != nil {
		return err
	}
	in, err := s.coverInput(c, p.CoverImage != "")
	if err != nil {
		return err
	}
	if _, err = s.updatePostCover(ctx, userOf(c), id, in, p.UpdatedAt); err != nil && in.CoverImage != nil {
		s.dropUpload(ctx, *in.CoverImage) // the file just stored, for a change that was refused
	}
	return err
}

// coverInput reads the cover form: "remove" clears the cover; without a file, a post that
// has a cover (has) only changes its text alternative; otherwise the file is stored.
func (s *Server) coverInput(c echo.Context, has bool) (cms.PostInput, error) {
	alt := c.FormValue("cover_alt")
	if c.FormValue("remove") != "" {
		none := ""
		return cms.PostInput{CoverImage: &none}, nil
	}
	if _, err := c.FormFile("cover"); errors.Is(err, http.ErrMissingFile) && has {
		return cms.PostInput{CoverAlt: &alt}, nil
	}
	path, err := s.storeImage(c, "cover")
	if err != nil {
		return cms.PostInput{}, err
	}
	return cms.PostInput{CoverImage: &path, CoverAlt: &alt}, nil
}

// imageUpload is the answer to POST /admin/uploads.
type imageUpload struct {
	URL      string `json:"url"`
	Markdown string `json:"markdown"`
}

// uploadImage stores an image for the text of a post (dropped, pasted or chosen in the
// editor) and answers with its URL and the markdown to insert. Refusals are JSON errors that
// name the field, which the editor shows next to the text.
func (s *Server) uploadImage(c echo.Context) error {
	path, err := s.storeImage(c, "image")
	if err != nil {
		status, msg, fields := s.describe(c, err)
		return c.JSON(status, errorBody{Error: msg, Fields: fields})
	}
	alt := strings.TrimSpace(strings.TrimSuffix(c.FormValue("alt"), filepath.Ext(c.FormValue("alt"))))
	alt = strings.NewReplacer("[", "", "]", "", "\n", " ").Replace(alt)
	return c.JSON(http.StatusCreated, imageUpload{URL: path, Markdown: "![" + alt + "](" + path + ")"})
}

// storeImage saves the image in form field (type sniffed from its bytes, not trusted from
// the client; size capped by UploadLimit) and returns its /uploads/ path.
func (s *Server) storeImage(c echo.Context, field string) (string, error) {
	fh, err := c.FormFile(field)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return "", engine.Errorf(engine.ETooLarge, "the image is over %d MB", s.cfg.UploadLimit>>20)
	}
	if err != nil {
		return "", engine.FieldError(field, "choose an image file")
	}
	if fh.Size > s.cfg.UploadLimit {
		return "", engine.Errorf(engine.ETooLarge, "the image is over %d MB", s.cfg.UploadLimit>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return "", fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	ext, ok := imageTypes[http.DetectContentType(head[:n])]
	if !ok {
		return "", engine.FieldError(field, "must be a PNG, JPEG, GIF or WebP image")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("rewind upload: %w", err)
	}
	name, err := s.saveUpload(f, ext)
	if err != nil {
		return "", err
	}
	return "/uploads/" + name, nil
}

// saveUpload writes r under a random name in UploadDir and returns the name.
func (s *Server) saveUpload(r io.Reader, ext string) (string, error) {
	if err := os.MkdirAll(s.cfg.UploadDir, 0o750); err != nil {
		return "", fmt.Errorf("create upload folder: %w", err)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	name := hex.EncodeToString(b) + ext
	tmp, err := os.CreateTemp(s.cfg.UploadDir, ".upload-*")
	if err != nil {
		return "", fmt.Errorf("store upload: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, io.LimitReader(r, s.cfg.UploadLimit+1)); err != nil {
		tmp.Close()
		return "", fmt.Errorf("store upload: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("store upload: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.cfg.UploadDir, name)); err != nil {
		return "", fmt.Errorf("store upload: %w", err)
	}
	return name, nil
}

// serveUpload serves a stored image by its generated name only.
func (s *Server) serveUpload(c echo.Context) error {
	name := c.Param("name")
	if !uploadName.MatchString(name) {
		return echo.ErrNotFound
	}
	path := filepath.Join(s.cfg.UploadDir, name)
	if _, err := os.Stat(path); err != nil {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.File(path)
}

// uploadRef finds the /uploads/ paths in a post's text (inline images).
var uploadRef = regexp.MustCompile(`/uploads/[a-f0-9]{32}\.(?:png|jpg|gif|webp)`)

// updatePostCover is Posts.Update for the routes that may change a post's cover: the file of a
// cover it replaces or removes is deleted, unless another post (or text) still uses it, so
// replaced covers leave no orphan files behind.
func (s *Server) updatePostCover(ctx context.Context, actor *cms.User, id int64, in cms.PostInput, at time.Time) (*cms.Post, error) {
	old := ""
	if in.CoverImage != nil {
		if before, err := s.cms.Posts.Get(ctx, id); err == nil {
			old = before.CoverImage
		}
	}
	p, err := s.cms.Posts.Update(ctx, actor, id, in, at)
	if err == nil && old != p.CoverImage {
		s.dropUpload(ctx, old)
	}
	return p, err
}

// removePost deletes post id, then the files of its cover and of the images in its texts
// that no other post uses.
func (s *Server) removePost(ctx context.Context, actor *cms.User, id int64) error {
	var files []string
	if p, err := s.cms.Posts.Get(ctx, id); err == nil {
		files = append(files, p.CoverImage)
		files = append(files, uploadRef.FindAllString(p.Markdown, -1)...)
		if p.AIRevision != nil {
			files = append(files, uploadRef.FindAllString(*p.AIRevision, -1)...)
		}
		if revs, err := s.cms.Posts.Revisions(ctx, id); err == nil {
			for _, r := range revs {
				files = append(files, uploadRef.FindAllString(r.Markdown, -1)...)
			}
		}
	}
	if err := s.cms.Posts.Delete(ctx, actor, id); err != nil {
		return err
	}
	slices.Sort(files)
	for _, f := range slices.Compact(files) {
		s.dropUpload(ctx, f)
	}
	return nil
}

// dropUpload deletes the stored file of path (an "/uploads/<name>" this server made; any
// other value is left alone) when no post refers to it any more. Failures are logged: the
// post's change is done, and a file left behind costs only disk.
func (s *Server) dropUpload(ctx context.Context, path string) {
	name, ok := strings.CutPrefix(path, "/uploads/")
	if !ok || !uploadName.MatchString(name) {
		return
	}
	used, err := s.cms.Posts.UploadInUse(ctx, path)
	if err != nil || used {
		if err != nil {
			s.log.WarnContext(ctx, "upload kept: cannot tell whether it is used", "path", path, "err", err)
		}
		return
	}
	if err := os.Remove(filepath.Join(s.cfg.UploadDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.WarnContext(ctx, "delete upload", "path", path, "err", err)
	}
}
