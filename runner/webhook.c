/* SPDX-License-Identifier: Apache-2.0 */
/* Webhook delivery: one sender thread POSTs queued events in order with libcurl. As Factotum
 * does, each event gets 3 attempts with a random pause of 0 to 60 s between them, and is dropped
 * after the third failure. Unlike Factotum (only 200 counts, no timeout, a pause after the third
 * failure too), any 2xx counts, every attempt has a connect and a total timeout, and
 * webhook_finish bounds how long the run waits for the queue.
 *
 * Each URL has its own sender and queue, so a stalled receiver delays only its own events. A queue
 * holds at most QUEUE_BYTES of events (the one being sent included): a receiver that does not
 * keep up with a task's heartbeats would otherwise make the runner hold every payload, each with
 * the output tails, for as long as the run lasts. Past the bound, progress events are dropped
 * (every event carries the whole job's state, so the next one delivered brings the receiver up
 * to date) and the run log says so once per URL; the job's final event is always queued.
 *
 * Test seams, read once by webhook_start (milliseconds): they exist so that tests of failing
 * receivers finish in seconds, and are not settings.
 *   FS_WEBHOOK_CONNECT_TIMEOUT_MS  connect timeout per attempt                 (default 2000)
 *   FS_WEBHOOK_TIMEOUT_MS          total timeout per attempt                   (default 5000)
 *   FS_WEBHOOK_PAUSE_MAX_MS        pauses between attempts are in [0, this)    (default 60000)
 *
 * libcurl is loaded with dlopen() by the first webhook_start, never linked (core/curlload.h): the
 * runner starts once per job, and resolving libcurl's ~30 libraries at every start cost ~4 ms of
 * the ~6 ms a one-task run takes (bench/README), for the few runs that send webhooks. Every call
 * goes through the table lc. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "curlload.h"
#include "err.h"
#include "output.h"
#include "webhook.h"
#include "xalloc.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

/* Factotum's MAX_RETRIES: attempts per event, the first included. */
#define ATTEMPTS 3

/* Beyond this many waiting events, or this many bytes of them, a new progress event is given up
 * at once rather than held. */
#define QUEUE_MAX   10000
#define QUEUE_BYTES ((size_t)8 << 20)

/* One event's payload, shared by the queues of every URL. */
struct event {
	atomic_int refs;
	int final; /* the job's last event: never dropped for room */
	size_t len;
	char json[]; /* len bytes and a NUL */
};

struct queued_event {
	struct queued_event *next;
	struct event *ev; /* one reference */
};

/* One URL's sender. */
struct webhook_dest {
	char *url;
	size_t number; /* 1-based, in the order of the URLs: how the run log names it */
	long connect_timeout_ms, timeout_ms, pause_max_ms;
	uint64_t rng;

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* sender: an event was queued, the run closed, or abort */
	pthread_cond_t idle; /* finish: the queue drained */
	struct queued_event *head, *tail; /* under lock */
	size_t queued;                    /* under lock */
	size_t held;                      /* under lock: bytes queued or being sent */
	int dropped;                      /* progress events were dropped for room (logged) */
	int busy;                         /* under lock: the sender holds an event */
	int closing;                      /* under lock: no more events will come */
	atomic_int abort; /* give up now (also read by curl's loop without the lock) */
	size_t given_up;  /* under lock */

	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	int started; /* the thread runs */
};

struct webhook {
	struct webhook_dest *dests;
	size_t n_dests;
	long max_stdouterr_size;
};

/* libcurl's functions, once the first webhook_start has loaded them (curlload.h). */
static const struct curlfns *lc;

static long env_long(const char *name, long def, long min, long max)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return def;
	return v;
}

/* xorshift64*: the pauses need no quality, only to differ between runners. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)userdata;
	return size * nmemb;
}

/* One POST. Returns 1 on a 2xx answer, 0 on any failure, -1 if aborted by webhook_finish. The
 * multi interface lets finish interrupt a transfer at once (curl_multi_wakeup) instead of at
 * curl's next progress callback. */
static int post_once(struct webhook_dest *wh, const struct event *ev)
{
	CURLMsg *msg;
	CURLcode res = CURLE_FAILED_INIT;
	long code = 0;
	int running = 1, left, aborted = 0;

	lc->easy_setopt(wh->easy, CURLOPT_POSTFIELDS, ev->json);
	lc->easy_setopt(wh->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)ev->len);
	if (lc->multi_add_handle(wh->multi, wh->easy) != CURLM_OK)
		return 0;
	while (running) {
		if (lc->multi_perform(wh->multi, &running) != CURLM_OK)
			break;
		if (atomic_load(&wh->abort)) {
			aborted = 1;
			break;
		}
		if (running && lc->multi_poll(wh->multi, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
	}
	while ((msg = lc->multi_info_read(wh->multi, &left)) != NULL) {
		if (msg->msg == CURLMSG_DONE)
			res = msg->data.result;
	}
	if (res == CURLE_OK)
		lc->easy_getinfo(wh->easy, CURLINFO_RESPONSE_CODE, &code);
	lc->multi_remove_handle(wh->multi, wh->easy);
	if (aborted)
		return -1;
	return res == CURLE_OK && code >= 200 && code < 300;
}

/* Sleeps ms unless finish aborts first. Returns 1 if aborted. Called with the lock held. */
static int pause_locked(struct webhook_dest *wh, long ms)
{
	struct timespec until;

	clock_deadline(CLOCK_MONOTONIC, ms, &until);
	while (!atomic_load(&wh->abort)) {
		if (pthread_cond_timedwait(&wh->wake, &wh->lock, &until) == ETIMEDOUT)
			break;
	}
	return atomic_load(&wh->abort);
}

/* Delivers one event in up to ATTEMPTS tries. Returns 1 if delivered. */
static int deliver(struct webhook_dest *wh, const struct event *ev)
{
	long wait;
	int attempt, r;

	for (attempt = 1;; attempt++) {
		r = post_once(wh, ev);
		if (r != 0)
			return r == 1;
		if (attempt >= ATTEMPTS)
			return 0;
		wait = wh->pause_max_ms > 0
			       ? (long)(rng_next(&wh->rng) % (uint64_t)wh->pause_max_ms)
			       : 0;
		pthread_mutex_lock(&wh->lock);
		r = pause_locked(wh, wait);
		pthread_mutex_unlock(&wh->lock);
		if (r)
			return 0;
	}
}

static void event_unref(struct event *ev)
{
	if (atomic_fetch_sub(&ev->refs, 1) == 1)
		free(ev);
}

static void *sender_main(void *arg)
{
	struct webhook_dest *wh = arg;
	struct queued_event *ev;
	size_t len;
	int ok;

	pthread_mutex_lock(&wh->lock);
	for (;;) {
		while (!wh->head && !wh->closing && !atomic_load(&wh->abort))
			pthread_cond_wait(&wh->wake, &wh->lock);
		if (!wh->head || atomic_load(&wh->abort))
			break;
		ev = wh->head;
		wh->head = ev->next;
		if (!wh->head)
			wh->tail = NULL;
		wh->queued--;
		wh->busy = 1;
		pthread_mutex_unlock(&wh->lock);

		ok = deliver(wh, ev->ev);
		len = ev->ev->len;
		event_unref(ev->ev);
		free(ev);

		pthread_mutex_lock(&wh->lock);
		wh->held -= len;
		wh->busy = 0;
		if (!ok)
			wh->given_up++;
		pthread_cond_broadcast(&wh->idle);
	}
	pthread_cond_broadcast(&wh->idle);
	pthread_mutex_unlock(&wh->lock);
	return NULL;
}

/* Frees what dest_start set up; the thread, if any, has ended. */
static void dest_free(struct webhook_dest *wh)
{
	struct queued_event *ev, *next;

	for (ev = wh->head; ev; ev = next) {
		next = ev->next;
		event_unref(ev->ev);
		free(ev);
	}
	if (wh->easy)
		lc->easy_cleanup(wh->easy);
	if (wh->multi)
		lc->multi_cleanup(wh->multi);
	lc->slist_free_all(wh->headers);
	pthread_cond_destroy(&wh->wake);
	pthread_cond_destroy(&wh->idle);
	pthread_mutex_destroy(&wh->lock);
	free(wh->url);
}

/* Sets up wh (zeroed) for url and starts its sender; on failure sets *errp, and wh must still be
 * freed with dest_free. */
static int dest_start(struct webhook_dest *wh, const char *url, char **errp)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	struct timespec now;
	int rc;

	wh->url = xstrdup(url);
	wh->connect_timeout_ms = env_long("FS_WEBHOOK_CONNECT_TIMEOUT_MS", 2000, 1, 3600000);
	wh->timeout_ms = env_long("FS_WEBHOOK_TIMEOUT_MS", 5000, 1, 3600000);
	wh->pause_max_ms = env_long("FS_WEBHOOK_PAUSE_MAX_MS", 60000, 0, 3600000);
	clock_gettime(CLOCK_REALTIME, &now);
	wh->rng = ((uint64_t)now.tv_nsec << 20) ^ (uint64_t)now.tv_sec ^
		  ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)wh;
	if (!wh->rng)
		wh->rng = 1;
	atomic_init(&wh->abort, 0);

	pthread_mutex_init(&wh->lock, NULL);
	/* Deadlines are monotonic: a wall-clock step must not stretch or cut the wait. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wh->wake, &ca);
	pthread_cond_init(&wh->idle, &ca);
	pthread_condattr_destroy(&ca);

	wh->multi = lc->multi_init();
	wh->easy = lc->easy_init();
	if (!wh->multi || !wh->easy)
		return err_set(errp, FS_EIO, "cannot initialise libcurl");
	wh->headers = lc->slist_append(NULL, "Content-Type: application/json; charset=utf-8");
	/* No "Expect: 100-continue" round trip for larger bodies (a second's stall on servers that
	 * never answer it). */
	wh->headers = lc->slist_append(wh->headers, "Expect:");
	lc->easy_setopt(wh->easy, CURLOPT_URL, wh->url);
	lc->easy_setopt(wh->easy, CURLOPT_HTTPHEADER, wh->headers);
	lc->easy_setopt(wh->easy, CURLOPT_POST, 1L);
	lc->easy_setopt(wh->easy, CURLOPT_NOSIGNAL, 1L);
	lc->easy_setopt(wh->easy, CURLOPT_CONNECTTIMEOUT_MS, wh->connect_timeout_ms);
	lc->easy_setopt(wh->easy, CURLOPT_TIMEOUT_MS, wh->timeout_ms);
	lc->easy_setopt(wh->easy, CURLOPT_WRITEFUNCTION, discard_body);
	lc->easy_setopt(wh->easy, CURLOPT_USERAGENT, CONFIG_RUNNER_AGENT PACKAGE_VERSION);
	lc->easy_setopt(wh->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	/* A redirect would take the events to a host nobody checked (the responder checks a
	 * client's URL against --client-webhook-hosts): a 3xx is a failed attempt. */
	lc->easy_setopt(wh->easy, CURLOPT_FOLLOWLOCATION, 0L);

	/* The sender must never take the runner's signals (SIGCHLD, SIGTERM): it starts with all
	 * of them blocked and the scheduler's thread keeps its own mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&wh->thread, NULL, sender_main, wh);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return err_set(errp, FS_EIO, "cannot start the webhook sender: %s", strerror(rc));
	wh->started = 1;
	return 0;
}

/* Stops every sender that runs and frees wh. */
static void webhook_free(struct webhook *wh)
{
	for (size_t i = 0; i < wh->n_dests; i++) {
		struct webhook_dest *d = &wh->dests[i];
		if (d->started) {
			pthread_mutex_lock(&d->lock);
			atomic_store(&d->abort, 1);
			pthread_cond_broadcast(&d->wake);
			pthread_mutex_unlock(&d->lock);
			pthread_join(d->thread, NULL);
		}
		if (d->url != NULL)
			dest_free(d);
	}
	free(wh->dests);
	free(wh);
}

struct webhook *webhook_start(char *const *urls, size_t n_urls, long max_stdouterr_size,
			      char **errp)
{
	struct webhook *wh;

	if ((lc = curlload(errp)) == NULL)
		return NULL;
	wh = xcalloc(1, sizeof(*wh));
	wh->dests = xcalloc(n_urls + 1, sizeof(*wh->dests));
	wh->max_stdouterr_size = max_stdouterr_size;
	for (size_t i = 0; i < n_urls; i++) {
		wh->n_dests = i + 1; /* webhook_free cleans up to the one that failed */
		wh->dests[i].number = i + 1;
		if (dest_start(&wh->dests[i], urls[i], errp) != 0) {
			webhook_free(wh);
			return NULL;
		}
	}
	return wh;
}

/* Queues one reference to ev on wh, unless there is no room for a progress event. */
static void enqueue(struct webhook_dest *wh, struct event *ev)
{
	struct queued_event *q;
	int log_drop = 0;

	pthread_mutex_lock(&wh->lock);
	if (wh->closing || (!ev->final && (wh->queued >= QUEUE_MAX ||
					   (wh->held > 0 && wh->held + ev->len > QUEUE_BYTES)))) {
		wh->given_up++;
		log_drop = !wh->closing && !wh->dropped;
		wh->dropped |= log_drop;
		pthread_mutex_unlock(&wh->lock);
		event_unref(ev);
		/* by number: a URL may carry a secret, and any submitter may read the run log */
		if (log_drop)
			output_printf(1,
				      "Warning: webhook %zu is not keeping up: progress events are "
				      "dropped while %zu MiB of them wait (the job's last event is "
				      "kept)\n",
				      wh->number, QUEUE_BYTES >> 20);
		return;
	}
	q = xmalloc(sizeof(*q));
	q->next = NULL;
	q->ev = ev;
	wh->held += ev->len;
	if (wh->tail)
		wh->tail->next = q;
	else
		wh->head = q;
	wh->tail = q;
	wh->queued++;
	pthread_cond_signal(&wh->wake);
	pthread_mutex_unlock(&wh->lock);
}

/* Queues json (taken over) on every URL's queue. */
static void enqueue_all(struct webhook *wh, char *json, int final)
{
	size_t len = strlen(json);
	struct event *ev = xmalloc(sizeof(*ev) + len + 1);

	atomic_init(&ev->refs, (int)wh->n_dests);
	ev->final = final;
	ev->len = len;
	memcpy(ev->json, json, len + 1);
	free(json);
	for (size_t i = 0; i < wh->n_dests; i++)
		enqueue(&wh->dests[i], ev);
}

void webhook_job_update(struct webhook *wh, const struct run *run, int previous)
{
	if (!wh)
		return;
	enqueue_all(wh,
		    webhook_event_json(run, "job_update", previous, NULL, 0,
				       wh->max_stdouterr_size),
		    run->state == JOB_SUCCEEDED || run->state == JOB_FAILED);
}

void webhook_task_update(struct webhook *wh, const struct run *run,
			 const struct task_transition *transitions, size_t n)
{
	if (!wh)
		return;
	enqueue_all(wh,
		    webhook_event_json(run, "task_update", -1, transitions, n,
				       wh->max_stdouterr_size),
		    0);
}

/* webhook_finish for one URL: waits until the deadline (every URL's senders were told to close
 * first, so they drain at the same time), then gives up what is left. Returns how many events
 * were given up. */
static size_t dest_finish(struct webhook_dest *wh, const struct timespec *until)
{
	struct queued_event *ev, *next;
	size_t n;

	pthread_mutex_lock(&wh->lock);
	while (wh->head || wh->busy) {
		if (pthread_cond_timedwait(&wh->idle, &wh->lock, until) == ETIMEDOUT)
			break;
	}
	if (wh->head || wh->busy) {
		/* Out of time: what is still queued is given up here, the event in flight by the
		 * sender when its transfer or pause notices the abort. */
		atomic_store(&wh->abort, 1);
		for (ev = wh->head; ev; ev = next) {
			next = ev->next;
			event_unref(ev->ev);
			free(ev);
			wh->given_up++;
		}
		wh->head = wh->tail = NULL;
		wh->queued = 0;
		pthread_cond_broadcast(&wh->wake);
		lc->multi_wakeup(wh->multi);
	}
	pthread_mutex_unlock(&wh->lock);
	pthread_join(wh->thread, NULL);
	wh->started = 0;
	pthread_mutex_lock(&wh->lock);
	n = wh->given_up;
	pthread_mutex_unlock(&wh->lock);
	return n;
}

size_t webhook_finish(struct webhook *wh, long max_wait_ms)
{
	struct timespec until;
	size_t n = 0;

	if (!wh)
		return 0;
	clock_deadline(CLOCK_MONOTONIC, max_wait_ms > 0 ? max_wait_ms : 0, &until);
	for (size_t i = 0; i < wh->n_dests; i++) {
		struct webhook_dest *d = &wh->dests[i];
		pthread_mutex_lock(&d->lock);
		d->closing = 1;
		pthread_cond_signal(&d->wake);
		pthread_mutex_unlock(&d->lock);
	}
	for (size_t i = 0; i < wh->n_dests; i++)
		n += dest_finish(&wh->dests[i], &until);
	webhook_free(wh);
	return n;
}
