package cms

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"time"
)

// Status is where a post is in its lifecycle.
type Status string

const (
	// StatusDraft is being written; only the admin sees it.
	StatusDraft Status = "draft"
	// StatusUnderReview was sent to review: workflows (AI review) work on it.
	StatusUnderReview Status = "under_review"
	// StatusNeedsApproval has AI suggestions waiting for an approver.
	StatusNeedsApproval Status = "needs_approval"
	// StatusApproved may be published.
	StatusApproved Status = "approved"
	// StatusPublished is on the public blog.
	StatusPublished Status = "published"
	// StatusUnpublished was published and taken down.
	StatusUnpublished Status = "unpublished"
)

// Statuses lists every post status in lifecycle order.
var Statuses = []Status{StatusDraft, StatusUnderReview, StatusNeedsApproval, StatusApproved, StatusPublished, StatusUnpublished}

// Label is the status for people ("needs approval").
func (s Status) Label() string { return strings.ReplaceAll(string(s), "_", " ") }

// Event names sent by post status changes, each with data {"id": postID}.
const (
	EventCreated     = "blog-post.created"
	EventUpdated     = "blog-post.updated" // sent to review
	EventPublished   = "blog-post.published"
	EventUnpublished = "blog-post.unpublished"
	EventApproved    = "blog-post.approve-ai-suggestions"
	EventRejected    = "blog-post.reject-ai-suggestions"
	// EventPublishScheduled asks the PublishAt function to publish data.id at data.at.
	EventPublishScheduled = "blog-post.publish-scheduled"
)

// PostEvents lists the events posts send, for pickers in the workflow editor.
var PostEvents = []string{EventCreated, EventUpdated, EventPublished, EventUnpublished, EventApproved, EventRejected}

// Post is a blog post with its AI working copy.
type Post struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	Slug     string `json:"slug"`
	Markdown string `json:"markdown"`
	Summary  string `json:"summary"`
	// Tags are the names as written ("Durable Execution"); TagSlugs their URL forms, kept
	// in step by Posts (TagSlug turns one into the other).
	Tags        Tags       `json:"tags"`
	TagSlugs    Tags       `json:"-"`
	CoverImage  string     `json:"cover_image"`
	CoverAlt    string     `json:"cover_alt"`
	Status      Status     `json:"status"`
	AuthorID    *int64     `json:"author_id"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at" gorm:"autoUpdateTime:false"`
	PublishedAt *time.Time `json:"published_at"`
	// PublishAt is when a scheduled publication happens (nil: none scheduled).
	PublishAt *time.Time `json:"publish_at"`
	// PublishedRevisionID is the revision the public page serves (nil: never published).
	// Edits to a published post are a pending update until an approver publishes them.
	PublishedRevisionID *int64 `json:"published_revision_id"`
	// AIRevision is the AI's working copy of Markdown (nil until an AI action wrote one).
	AIRevision *string `json:"ai_revision"`
	// AIRecommendations holds what AI actions produced (grammar changes, social posts...).
	AIRecommendations map[string]any `json:"ai_recommendations" gorm:"serializer:json"`
}

// Revision is a snapshot of a post's content after a save.
type Revision struct {
	ID        int64     `json:"id"`
	PostID    int64     `json:"post_id"`
	Title     string    `json:"title"`
	Markdown  string    `json:"markdown"`
	Summary   string    `json:"summary"`
	AuthorID  *int64    `json:"author_id"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName tells gorm the table.
func (Revision) TableName() string { return "post_revisions" }

// Tags are a list of tag names or slugs, stored as ",a,b," so that one LIKE finds posts with
// a tag on both databases (names never hold a comma).
type Tags []string

// Value implements driver.Valuer.
func (t Tags) Value() (driver.Value, error) {
	if len(t) == 0 {
		return "", nil
	}
	return "," + strings.Join(t, ",") + ",", nil
}

// Scan implements sql.Scanner.
func (t *Tags) Scan(v any) error {
	var s string
	switch x := v.(type) {
	case nil:
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		return fmt.Errorf("tags: cannot scan %T", v)
	}
	*t = splitList(s)
	return nil
}

// Has reports whether t holds a tag whose slug is tag's.
func (t Tags) Has(tag string) bool {
	slug := TagSlug(tag)
	for _, x := range t {
		if TagSlug(x) == slug {
			return true
		}
	}
	return false
}

// Name returns the name in t whose slug is slug, or slug itself.
func (t Tags) Name(slug string) string {
	for _, x := range t {
		if TagSlug(x) == slug {
			return x
		}
	}
	return slug
}

// TagSlug is a tag's URL form: "Durable Execution" is "durable-execution".
func TagSlug(name string) string { return Slugify(name) }

// ReadingMinutes is how long markdown takes to read at 220 words a minute, at least 1.
func ReadingMinutes(markdown string) int {
	words := len(strings.Fields(markdown))
	return max(1, (words+219)/220)
}
