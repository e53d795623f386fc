// Package ops holds what an operator runs besides the blog: the retention functions that
// delete old runs and events, and the weekly editorial report (an action kind plus a
// workflow template admins import).
//
// Everything here is ordinary engine functions and workflow kinds, registered by main like
// the blog's own: cron triggers fire once across all instances, and each clean-up batch is
// its own durable run.
package ops
