/* SPDX-License-Identifier: Apache-2.0 */
/* Factotum webhooks: job_update and task_update events built from a run's state and delivered in
 * order by a background sender (libcurl, loaded by the first webhook_start rather than linked)
 * with timeouts and Factotum's 3 attempts per event. Calls are made from the scheduler's thread
 * only. */
#ifndef FS_WEBHOOK_H
#define FS_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "run.h"

struct webhook;

/* Starts one sender per URL of urls[0..n_urls) (n_urls >= 1; http:// or https://, already
 * validated; only read during the call): every event goes to each URL, in order, through that
 * URL's own queue. max_stdouterr_size is how many characters (not bytes) of each task's
 * stdout/stderr tail go into payloads. Returns NULL and sets *errp (the caller frees it) if a
 * sender cannot be started -- libcurl.so.4 cannot be loaded, for one. Free with webhook_finish.
 * Delivery: any 2xx counts, redirects are not followed; each attempt has a 2 s connect and 5 s
 * total timeout; 3 attempts per event with a random 0-60 s pause between them, then the event is
 * given up. A queue holds at most 10000 events and 8 MiB of them (the one being sent included);
 * past that, a new progress event is given up and the run log (stdout) says so once per URL (by
 * its number, 1 for the first: a URL may carry a secret), but the job's last event (its final
 * job_update) is always queued. Tests shorten the timeouts through the FS_WEBHOOK_* test seams
 * listed at the top of webhook.c. The sender threads block
 * every signal, so the caller's thread keeps receiving them. */
struct webhook *webhook_start(char *const *urls, size_t n_urls, long max_stdouterr_size,
			      char **errp);

/* Queues a job_update event for the run's current state; previous is the job state before this
 * transition, or -1 for none (the first event: null previousState). The payload is built now,
 * so later changes to run do not affect it. Never waits for the network; wh NULL does nothing. */
void webhook_job_update(struct webhook *wh, const struct run *run, int previous);

/* Queues a task_update event carrying the given transitions (n >= 1) and the run's task states. */
void webhook_task_update(struct webhook *wh, const struct run *run,
			 const struct task_transition *transitions, size_t n);

/* Waits up to max_wait_ms for every queued event to be delivered or given up, stops the senders
 * and frees wh. Returns how many events were given up over all URLs (the caller prints a warning
 * if > 0). */
size_t webhook_finish(struct webhook *wh, long max_wait_ms);

/* Builds one event's compact JSON (runner/event.c, for the sender): kind is "job_update" or
 * "task_update". Returns a new string the caller frees. Task states list run->order (the planned
 * tasks, in plan order); the output of RUNNING tasks goes into task_update events only when
 * run->fa->heartbeat_interval was given (Factotum attaches live output only with heartbeats). */
char *webhook_event_json(const struct run *run, const char *kind, int previous_job_state,
			 const struct task_transition *transitions, size_t n,
			 long max_stdouterr_size);

/* ---- Test seams: the pieces of runner/event.c that tests/unit/test_webhook_event.c checks on
 * their own. No other module calls them. ---- */
struct buf;

/* webhook_event_json with the clock given: runDuration is now_mono - run->start_mono. */
char *webhook_event_json_at(const struct run *run, const char *kind, int previous_job_state,
			    const struct task_transition *transitions, size_t n,
			    long max_stdouterr_size, const struct timespec *now_mono);

/* Appends a duration as chrono 0.2 (time 0.1's Duration Display) writes it: "P<d>D" when there
 * are whole days, "T<s>S" with the seconds within the day and 0, 3, 6 or 9 fraction digits (the
 * fewest that are exact) when there is a time part or no day part; "-" first when negative.
 * nanos is 0..999999999 and adds to secs (so -0.5 s is secs -1, nanos 500000000). */
void webhook_put_duration(struct buf *b, int64_t secs, long nanos);

/* Appends t (CLOCK_REALTIME) as UTC "%Y-%m-%dT%H:%M:%S.<millis>Z" (chrono's %.3f truncates). */
void webhook_put_time(struct buf *b, const struct timespec *t);

/* Appends to b what Factotum would send for captured output: the text split into lines as
 * Rust's BufRead::lines does (on '\n', one trailing '\r' dropped, no empty last line) and joined
 * with '\n', invalid UTF-8 replaced by U+FFFD as String::from_utf8_lossy does, then only the
 * last max_chars characters (code points; max_chars < 1 gives ""). Returns 0 and appends nothing
 * if the joined text is empty (Factotum then leaves the field out), else 1. */
int webhook_put_output(struct buf *b, const char *data, size_t len, long max_chars);

#endif
