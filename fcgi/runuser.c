/* SPDX-License-Identifier: Apache-2.0 */
/* The responder's cached copy of the worker's run identity (runuser.h). Each published text is
 * parsed once into a reference-counted entry: a thread checking a factfile keeps its entry even
 * when a newer one replaces it in the cache. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "log.h"
#include "runuser.h"
#include "settings.h"
#include "spool.h"
#include "xalloc.h"

/* How stale the cache may get: a worker restarted with another --run-as is seen within this. */
#define RUNUSER_REREAD_MS 1000

struct runuser_entry {
	struct runident ri; /* first: a runident pointer is its entry's */
	atomic_int refs;
};

struct runuser {
	struct spool *sp;
	pthread_mutex_t mu;
	int64_t read_at;           /* clock_mono_ms of the last read; 0: never */
	char *text;                /* the text last read, owned; NULL: nothing published */
	struct runuser_entry *cur; /* its parse (one reference); NULL: no check */
};

struct runuser *runuser_new(struct spool *sp)
{
	struct runuser *ru = xcalloc(1, sizeof(*ru));

	ru->sp = sp;
	pthread_mutex_init(&ru->mu, NULL);
	return ru;
}

static void runuser_unref(struct runuser_entry *e)
{
	if (e != NULL && atomic_fetch_sub(&e->refs, 1) == 1) {
		runident_free(&e->ri);
		free(e);
	}
}

void runuser_free(struct runuser *ru)
{
	if (ru == NULL)
		return;
	runuser_unref(ru->cur);
	free(ru->text);
	pthread_mutex_destroy(&ru->mu);
	free(ru);
}

/* Re-reads the setting under ru->mu; a spool that cannot be read keeps what was known. */
static void runuser_reread(struct runuser *ru)
{
	struct runuser_entry *e = NULL;
	struct runident ri;
	char *text = NULL, *err = NULL;
	int rc;

	rc = spool_setting_get(ru->sp, SETTINGS_WORKER_RUNAS, &text, &err);
	if (rc != 0 && rc != FS_ENOENT) {
		log_warn("the run user cannot be read: %s", err);
		goto out;
	}
	if ((text == NULL && ru->text == NULL) ||
	    (text != NULL && ru->text != NULL && strcmp(text, ru->text) == 0))
		goto out;
	/* a text this responder cannot parse (a newer worker's?) is reported once, and checks
	 * nothing: the run itself still fails on a factfile it cannot read */
	if (text != NULL && (rc = runident_parse(text, &ri, &err)) < 0)
		log_warn("%s: %s", SETTINGS_WORKER_RUNAS, err);
	if (text != NULL && rc == 0) {
		e = xmalloc(sizeof(*e));
		e->ri = ri;
		atomic_init(&e->refs, 1);
	}
	runuser_unref(ru->cur);
	ru->cur = e;
	free(ru->text);
	ru->text = text;
	text = NULL;
out:
	free(text);
	free(err);
}

const struct runident *runuser_acquire(struct runuser *ru)
{
	struct runuser_entry *e;
	int64_t now = clock_mono_ms();

	pthread_mutex_lock(&ru->mu);
	if (ru->read_at == 0 || now - ru->read_at >= RUNUSER_REREAD_MS) {
		runuser_reread(ru);
		ru->read_at = now;
	}
	if ((e = ru->cur) != NULL)
		atomic_fetch_add(&e->refs, 1);
	pthread_mutex_unlock(&ru->mu);
	return e != NULL ? &e->ri : NULL;
}

void runuser_release(struct runuser *ru, const struct runident *ri)
{
	(void)ru;
	/* ri is the first member of its entry */
	runuser_unref((struct runuser_entry *)(void *)ri);
}
