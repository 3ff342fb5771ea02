/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for fcgi/batcher.c: threads submit through a fake run that counts its batches and
 * checks what it is given; each item must be settled exactly once, by one run at a time, in
 * batches no larger than the bound and of one kind when the ops say so, and the caller must get
 * its own result back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "batcher.h"
#include "xalloc.h"

#define THREADS    8
#define PER_THREAD 100

/* What the fake run saw. Written by one run at a time (the batcher's promise, checked through
 * running), read after the threads are joined. */
struct batch_log {
	atomic_int running; /* runs in progress: never more than one */
	int overlaps;       /* runs that found another in progress */
	int batches, items, multi, mixed;
	size_t biggest;
	int result;       /* what run returns */
	useconds_t delay; /* run's duration, so that others queue meanwhile */
	atomic_int afters;
};

struct job {
	int key; /* its kind, for same */
	int id;
	int settled; /* times run settled it */
};

static int fake_run(void *ctx, struct batcher_item *batch)
{
	struct batch_log *f = ctx;
	struct batcher_item *it;
	size_t n = 0;
	int key = ((struct job *)batch->data)->key;

	if (atomic_fetch_add(&f->running, 1) != 0)
		f->overlaps++;
	if (f->delay > 0)
		usleep(f->delay);
	for (it = batch; it != NULL; it = it->next) {
		struct job *j = it->data;

		j->settled++;
		f->mixed += j->key != key;
		/* every fifth fails, with a message naming it */
		if (j->id % 5 == 0) {
			it->rc = -5;
			it->err = xasprintf("job %d refused", j->id);
		}
		n++;
	}
	f->batches++;
	f->items += (int)n;
	f->multi += n > 1;
	if (n > f->biggest)
		f->biggest = n;
	atomic_fetch_sub(&f->running, 1);
	return f->result;
}

static void fake_after(void *ctx)
{
	struct batch_log *f = ctx;

	atomic_fetch_add(&f->afters, 1);
}

static int fake_same(const void *first, const void *data)
{
	return ((const struct job *)first)->key == ((const struct job *)data)->key;
}

struct submitter {
	struct batcher *b;
	int index;
	int wrong; /* results that were not this item's */
};

static void *submitter_main(void *arg)
{
	struct submitter *w = arg;
	int k;

	for (k = 0; k < PER_THREAD; k++) {
		struct job j = { w->index % 2, w->index * PER_THREAD + k + 1, 0 };
		char *err = NULL, *want = NULL;
		int rc = batcher_submit(w->b, &j, &err);

		if (j.id % 5 == 0) {
			want = xasprintf("job %d refused", j.id);
			w->wrong += rc != -5 || err == NULL || strcmp(err, want) != 0;
		} else {
			w->wrong += rc != 0 || err != NULL;
		}
		w->wrong += j.settled != 1;
		free(want);
		free(err);
	}
	return NULL;
}

/* THREADS threads of PER_THREAD submissions each through a batcher over ops, with a run that
 * takes delay and returns result; f tells what it saw. While one batch runs, the other threads
 * queue: some batches must carry several items. */
static void run_threads(const struct batcher_ops *ops, useconds_t delay, int result,
			struct batch_log *f)
{
	struct batcher b;
	struct submitter w[THREADS];
	pthread_t t[THREADS];
	int i, wrong = 0;

	memset(f, 0, sizeof(*f));
	f->delay = delay;
	f->result = result;
	batcher_init(&b, ops, f);
	for (i = 0; i < THREADS; i++) {
		w[i].b = &b;
		w[i].index = i;
		w[i].wrong = 0;
		assert_int_equal(pthread_create(&t[i], NULL, submitter_main, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		wrong += w[i].wrong;
	}
	batcher_destroy(&b);
	assert_int_equal(wrong, 0);
	assert_int_equal(f->overlaps, 0);
	assert_int_equal(f->items, THREADS * PER_THREAD);
	assert_true(f->multi > 0);
	/* each thread has one item queued at a time */
	assert_true(f->biggest <= THREADS);
}

static void test_alone(void **state)
{
	static const struct batcher_ops ops = { .run = fake_run, .after = fake_after, .max = 4 };
	struct batch_log f;
	struct batcher b;
	struct job ok = { 0, 1, 0 }, bad = { 0, 10, 0 };
	char *err = xstrdup("earlier message");

	(void)state;
	memset(&f, 0, sizeof(f));
	f.result = 1;
	batcher_init(&b, &ops, &f);
	/* a success leaves *errp alone */
	assert_int_equal(batcher_submit(&b, &ok, &err), 0);
	assert_string_equal(err, "earlier message");
	assert_int_equal(ok.settled, 1);
	assert_int_equal(f.batches, 1);
	assert_int_equal(atomic_load(&f.afters), 1);
	/* a failure replaces it with run's message */
	assert_int_equal(batcher_submit(&b, &bad, &err), -5);
	assert_string_equal(err, "job 10 refused");
	assert_int_equal(bad.settled, 1);
	/* without errp the message is freed (the leak checker of the ASan build sees it) */
	bad.settled = 0;
	assert_int_equal(batcher_submit(&b, &bad, NULL), -5);
	assert_int_equal(f.batches, 3);
	assert_int_equal(f.items, 3);
	batcher_destroy(&b);
	free(err);
}

static void test_concurrent_batches(void **state)
{
	static const struct batcher_ops ops = { .run = fake_run, .max = 256, .yield_alone = 1 };
	struct batch_log f;

	(void)state;
	run_threads(&ops, 500, 0, &f);
	assert_true(f.batches < THREADS * PER_THREAD);
	assert_int_equal(atomic_load(&f.afters), 0);
}

static void test_bounded_batches(void **state)
{
	static const struct batcher_ops ops = { .run = fake_run, .max = 3 };
	struct batch_log f;

	(void)state;
	run_threads(&ops, 500, 0, &f);
	assert_true(f.biggest <= 3);
}

static void test_batches_of_one_kind(void **state)
{
	static const struct batcher_ops ops = { .run = fake_run, .same = fake_same, .max = 32 };
	struct batch_log f;

	(void)state;
	run_threads(&ops, 500, 0, &f);
	assert_int_equal(f.mixed, 0);
}

static void test_after_once_per_leader(void **state)
{
	static const struct batcher_ops ops = { .run = fake_run, .after = fake_after, .max = 256 };
	struct batch_log f;

	(void)state;
	run_threads(&ops, 200, 1, &f);
	/* each leader calls it once, however many batches it led */
	assert_true(atomic_load(&f.afters) >= 1);
	assert_true(atomic_load(&f.afters) <= f.batches);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alone),
		cmocka_unit_test(test_concurrent_batches),
		cmocka_unit_test(test_bounded_batches),
		cmocka_unit_test(test_batches_of_one_kind),
		cmocka_unit_test(test_after_once_per_leader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
