/* SPDX-License-Identifier: Apache-2.0 */
/* Webhook delivery: one sender thread POSTs queued events in order with libcurl. As Factotum
 * does, each event gets 3 attempts with a random pause of 0 to 60 s between them, and is dropped
 * after the third failure. Unlike Factotum (only 200 counts, no timeout, a pause after the third
 * failure too), any 2xx counts, every attempt has a connect and a total timeout, and
 * webhook_finish bounds how long the run waits for the queue.
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
#include "webhook.h"
#include "xalloc.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

/* Factotum's MAX_RETRIES: attempts per event, the first included. */
#define ATTEMPTS 3

/* Beyond this many waiting events (a receiver stalled through a long run with heartbeats), new
 * events are given up at once rather than holding unbounded memory. */
#define QUEUE_MAX 10000

struct queued_event {
	struct queued_event *next;
	char *json; /* owned */
	size_t len;
};

struct webhook {
	char *url;
	long max_stdouterr_size;
	long connect_timeout_ms, timeout_ms, pause_max_ms;
	uint64_t rng;

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* sender: an event was queued, the run closed, or abort */
	pthread_cond_t idle; /* finish: the queue drained */
	struct queued_event *head, *tail; /* under lock */
	size_t queued;                    /* under lock */
	int busy;                         /* under lock: the sender holds an event */
	int closing;                      /* under lock: no more events will come */
	atomic_int abort; /* give up now (also read by curl's loop without the lock) */
	size_t given_up;  /* under lock */

	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
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
static int post_once(struct webhook *wh, const struct queued_event *ev)
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
static int pause_locked(struct webhook *wh, long ms)
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
static int deliver(struct webhook *wh, const struct queued_event *ev)
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

static void *sender_main(void *arg)
{
	struct webhook *wh = arg;
	struct queued_event *ev;
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

		ok = deliver(wh, ev);
		free(ev->json);
		free(ev);

		pthread_mutex_lock(&wh->lock);
		wh->busy = 0;
		if (!ok)
			wh->given_up++;
		pthread_cond_broadcast(&wh->idle);
	}
	pthread_cond_broadcast(&wh->idle);
	pthread_mutex_unlock(&wh->lock);
	return NULL;
}

static void webhook_free(struct webhook *wh)
{
	struct queued_event *ev, *next;

	for (ev = wh->head; ev; ev = next) {
		next = ev->next;
		free(ev->json);
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
	free(wh);
}

struct webhook *webhook_start(const char *url, long max_stdouterr_size, char **errp)
{
	struct webhook *wh;
	pthread_condattr_t ca;
	sigset_t all, old;
	struct timespec now;
	int rc;

	if ((lc = curlload(errp)) == NULL)
		return NULL;

	wh = xcalloc(1, sizeof(*wh));
	wh->url = xstrdup(url);
	wh->max_stdouterr_size = max_stdouterr_size;
	wh->connect_timeout_ms = env_long("FS_WEBHOOK_CONNECT_TIMEOUT_MS", 2000, 1, 3600000);
	wh->timeout_ms = env_long("FS_WEBHOOK_TIMEOUT_MS", 5000, 1, 3600000);
	wh->pause_max_ms = env_long("FS_WEBHOOK_PAUSE_MAX_MS", 60000, 0, 3600000);
	clock_gettime(CLOCK_REALTIME, &now);
	wh->rng = ((uint64_t)now.tv_nsec << 20) ^ (uint64_t)now.tv_sec ^ ((uint64_t)getpid() << 40);
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
	if (!wh->multi || !wh->easy) {
		err_set(errp, FS_EIO, "cannot initialise libcurl");
		goto fail;
	}
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

	/* The sender must never take the runner's signals (SIGCHLD, SIGTERM): it starts with all
	 * of them blocked and the scheduler's thread keeps its own mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&wh->thread, NULL, sender_main, wh);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		err_set(errp, FS_EIO, "cannot start the webhook sender: %s", strerror(rc));
		goto fail;
	}
	return wh;
fail:
	webhook_free(wh);
	return NULL;
}

/* Takes ownership of json. */
static void enqueue(struct webhook *wh, char *json)
{
	struct queued_event *ev;

	pthread_mutex_lock(&wh->lock);
	if (wh->closing || wh->queued >= QUEUE_MAX) {
		wh->given_up++;
		pthread_mutex_unlock(&wh->lock);
		free(json);
		return;
	}
	ev = xmalloc(sizeof(*ev));
	ev->next = NULL;
	ev->json = json;
	ev->len = strlen(json);
	if (wh->tail)
		wh->tail->next = ev;
	else
		wh->head = ev;
	wh->tail = ev;
	wh->queued++;
	pthread_cond_signal(&wh->wake);
	pthread_mutex_unlock(&wh->lock);
}

void webhook_job_update(struct webhook *wh, const struct run *run, int previous)
{
	if (!wh)
		return;
	enqueue(wh,
		webhook_event_json(run, "job_update", previous, NULL, 0, wh->max_stdouterr_size));
}

void webhook_task_update(struct webhook *wh, const struct run *run,
			 const struct task_transition *transitions, size_t n)
{
	if (!wh)
		return;
	enqueue(wh,
		webhook_event_json(run, "task_update", -1, transitions, n, wh->max_stdouterr_size));
}

size_t webhook_finish(struct webhook *wh, long max_wait_ms)
{
	struct timespec until;
	struct queued_event *ev, *next;
	size_t n;

	if (!wh)
		return 0;
	clock_deadline(CLOCK_MONOTONIC, max_wait_ms > 0 ? max_wait_ms : 0, &until);
	pthread_mutex_lock(&wh->lock);
	wh->closing = 1;
	pthread_cond_signal(&wh->wake);
	while (wh->head || wh->busy) {
		if (pthread_cond_timedwait(&wh->idle, &wh->lock, &until) == ETIMEDOUT)
			break;
	}
	if (wh->head || wh->busy) {
		/* Out of time: what is still queued is given up here, the event in flight by the
		 * sender when its transfer or pause notices the abort. */
		atomic_store(&wh->abort, 1);
		for (ev = wh->head; ev; ev = next) {
			next = ev->next;
			free(ev->json);
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
	n = wh->given_up;
	webhook_free(wh);
	return n;
}
