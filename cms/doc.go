// Package cms is the blog's domain and service layer: users and their roles, sessions, API
// tokens, event keys, posts with their revisions, slugs and status lifecycle.
//
// # How the parts fit
//
// New bundles the services over one *gorm.DB and one *engine.Engine. Every status change of
// a post (Posts.SendToReview, Approve, Publish, ...) updates the row and sends its event with
// engine.SendTx in the same transaction, so the change and the runs it starts commit together
// or not at all. Methods return *domain.Error values (EInvalid with the offending field,
// ENotFound, EConflict, EForbidden, EUnauthorized) that the web package maps to HTTP statuses.
//
// Secrets (session ids, API tokens, event keys) are random, shown to their owner once and
// stored only as SHA-256 hashes; passwords are stored as bcrypt hashes.
package cms
