/* SPDX-License-Identifier: Apache-2.0 */
/* The WAL checkpointer thread (checkpointer.h). */
#include "checkpointer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "log.h"
#include "xalloc.h"

struct checkpointer {
	struct spool *sp;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int noted;    /* WAL size at the last request, under mu */
	int wanted;   /* under mu */
	int stopping; /* under mu */
};

static void checkpointer_run(struct checkpointer *cp)
{
	char *err = NULL;

	if (spool_checkpoint(cp->sp, &err) != 0)
		log_warn("%s", err);
	free(err);
}

/* The time SPOOL_CHECKPOINT_MS after now, on the condition variable's (monotonic) clock. */
static struct timespec checkpointer_due(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += SPOOL_CHECKPOINT_MS / 1000;
	t.tv_nsec += (long)(SPOOL_CHECKPOINT_MS % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static void *checkpointer_main(void *arg)
{
	struct checkpointer *cp = arg;
	struct timespec due;

	pthread_mutex_lock(&cp->mu);
	for (;;) {
		/* also every SPOOL_CHECKPOINT_MS: commits of the other handles (and short WALs) reach
		 * spool.db in time; a checkpoint with nothing to copy costs next to nothing */
		due = checkpointer_due();
		while (!cp->wanted && !cp->stopping)
			if (pthread_cond_timedwait(&cp->cv, &cp->mu, &due) == ETIMEDOUT)
				cp->wanted = 1;
		if (cp->stopping)
			break;
		cp->wanted = 0;
		pthread_mutex_unlock(&cp->mu);
		checkpointer_run(cp);
		pthread_mutex_lock(&cp->mu);
	}
	pthread_mutex_unlock(&cp->mu);
	return NULL;
}

int checkpointer_start(struct checkpointer **cpp, struct spool *sp, char **errp)
{
	struct checkpointer *cp = xcalloc(1, sizeof(*cp));
	pthread_condattr_t ca;
	int rc;

	cp->sp = sp;
	pthread_mutex_init(&cp->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cp->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&cp->tid, NULL, checkpointer_main, cp)) != 0) {
		pthread_cond_destroy(&cp->cv);
		pthread_mutex_destroy(&cp->mu);
		spool_close(sp);
		free(cp);
		*cpp = NULL;
		return err_set(errp, FS_EIO, "cannot start the checkpoint thread: %s",
			       strerror(rc));
	}
	*cpp = cp;
	return 0;
}

void checkpointer_note(struct checkpointer *cp, int frames)
{
	if (cp == NULL)
		return;
	pthread_mutex_lock(&cp->mu);
	if (frames < cp->noted)
		cp->noted = 0;
	if (frames - cp->noted >= CHECKPOINTER_FRAMES) {
		cp->noted = frames;
		cp->wanted = 1;
		pthread_cond_signal(&cp->cv);
	}
	pthread_mutex_unlock(&cp->mu);
}

void checkpointer_stop(struct checkpointer *cp)
{
	if (cp == NULL)
		return;
	pthread_mutex_lock(&cp->mu);
	cp->stopping = 1;
	pthread_cond_signal(&cp->cv);
	pthread_mutex_unlock(&cp->mu);
	pthread_join(cp->tid, NULL);
	checkpointer_run(cp);
	spool_close(cp->sp);
	pthread_cond_destroy(&cp->cv);
	pthread_mutex_destroy(&cp->mu);
	free(cp);
}
