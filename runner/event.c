/* SPDX-License-Identifier: Apache-2.0 */
/* Webhook event payloads, byte for byte as Factotum 0.7.0 builds them (webhook/jobupdate/mod.rs):
 * rustc-serialize's compact encoding of a BTreeMap, so every object inside "data" has its keys in
 * byte-wise order, while the outer wrapper is a derived struct encoding and keeps "schema" before
 * "data". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/base64.h>

#include "clock.h"
#include "ffjson.h"
#include "kv.h"
#include "version.h"
#include "webhook.h"
#include "xalloc.h"

#define SCHEMA_JOB  "iglu:com.snowplowanalytics.factotum/job_update/jsonschema/1-0-0"
#define SCHEMA_TASK "iglu:com.snowplowanalytics.factotum/task_update/jsonschema/1-0-0"

/* applicationContext is Factotum's: its name and its crate version, which a receiver may check. */
#define APP_NAME "factotum"

/* State names as payloads spell them. */
static const char *const task_names[] = {
	[TASK_WAITING] = "WAITING",     [TASK_RUNNING] = "RUNNING",
	[TASK_SUCCEEDED] = "SUCCEEDED", [TASK_SUCCEEDED_NO_OP] = "SUCCEEDED_NO_OP",
	[TASK_FAILED] = "FAILED",       [TASK_SKIPPED] = "SKIPPED",
};

static const char *const job_names[] = {
	[JOB_WAITING] = "WAITING",
	[JOB_RUNNING] = "RUNNING",
	[JOB_SUCCEEDED] = "SUCCEEDED",
	[JOB_FAILED] = "FAILED",
};

static const char *task_name(enum task_state s)
{
	return (unsigned)s < sizeof(task_names) / sizeof(task_names[0]) ? task_names[s] : "WAITING";
}

static const char *job_name(int s)
{
	return s >= 0 && (unsigned)s < sizeof(job_names) / sizeof(job_names[0]) ? job_names[s]
										: "WAITING";
}

static void put_str(struct buf *b, const char *s)
{
	ffjson_put_string(b, s, strlen(s));
}

/* `"key":` — keys are our own ASCII literals, so no escaping is needed. */
static void put_key(struct buf *b, const char *key)
{
	buf_printf(b, "\"%s\":", key);
}

void webhook_put_duration(struct buf *b, int64_t secs, long nanos)
{
	const int64_t day = 86400;
	uint64_t asecs, days, rest;
	long ananos = nanos;

	/* time 0.1 negates the whole value first, borrowing a second when there are nanos. */
	if (secs < 0) {
		buf_putc(b, '-');
		asecs = (uint64_t)(-(secs + 1));
		if (ananos == 0)
			asecs++;
		else
			ananos = 1000000000L - ananos;
	} else {
		asecs = (uint64_t)secs;
	}
	days = asecs / (uint64_t)day;
	rest = asecs % (uint64_t)day;
	buf_putc(b, 'P');
	if (days != 0)
		buf_printf(b, "%lluD", (unsigned long long)days);
	if (rest == 0 && ananos == 0 && days != 0)
		return;
	if (ananos == 0)
		buf_printf(b, "T%lluS", (unsigned long long)rest);
	else if (ananos % 1000000 == 0)
		buf_printf(b, "T%llu.%03ldS", (unsigned long long)rest, ananos / 1000000);
	else if (ananos % 1000 == 0)
		buf_printf(b, "T%llu.%06ldS", (unsigned long long)rest, ananos / 1000);
	else
		buf_printf(b, "T%llu.%09ldS", (unsigned long long)rest, ananos);
}

void webhook_put_time(struct buf *b, const struct timespec *t)
{
	char s[CLOCK_UTC_LEN];

	clock_format_utc((int64_t)t->tv_sec * 1000 + t->tv_nsec / 1000000, CLOCK_UTC_ISO_MS, s);
	buf_puts(b, s);
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if it is not one; *bad is then set to the
 * length of the maximal prefix of a valid sequence (at least 1), which from_utf8_lossy replaces
 * by one U+FFFD (Unicode's "substitution of maximal subparts"). */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3;
	else {
		*bad = 1;
		return 0;
	}
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f; /* no surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f; /* nothing above U+10FFFF */
	for (i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

int webhook_put_output(struct buf *b, const char *data, size_t len, long max_chars)
{
	struct buf text;
	const unsigned char *s;
	size_t i, start, chars;

	/* BufRead::lines + join("\n"): drop the final '\n', and one '\r' before every '\n'. */
	buf_init(&text);
	for (i = 0; i < len;) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - data) : len, line_end = end;

		if (nl && line_end > i && data[line_end - 1] == '\r')
			line_end--;
		if (i > 0)
			buf_putc(&text, '\n');
		buf_append(&text, data + i, line_end - i);
		i = end + (nl != NULL);
	}
	if (text.len == 0) {
		/* An output of only "\n" is one empty line: joined, still "", so absent. */
		buf_free(&text);
		return 0;
	}

	/* from_utf8_lossy into a second buffer, so the tail below counts real characters. */
	{
		struct buf dec;
		size_t bad;

		buf_init(&dec);
		s = (const unsigned char *)text.data;
		for (i = 0; i < text.len;) {
			size_t k = utf8_seq(s + i, text.len - i, &bad);

			if (k) {
				buf_append(&dec, s + i, k);
				i += k;
			} else {
				buf_append(&dec, "\xef\xbf\xbd", 3);
				i += bad;
			}
		}
		buf_free(&text);
		text = dec;
	}

	/* tail_n_chars: the last max_chars code points; the text is valid UTF-8 now, so a character
	 * starts at every byte that is not a continuation byte. */
	if (max_chars < 1) {
		buf_free(&text);
		return 1;
	}
	s = (const unsigned char *)text.data;
	start = text.len;
	chars = 0;
	while (start > 0 && chars < (size_t)max_chars) {
		start--;
		if ((s[start] & 0xc0) != 0x80)
			chars++;
	}
	buf_append(b, text.data + start, text.len - start);
	buf_free(&text);
	return 1;
}

static void put_output_field(struct buf *b, const char *key, const struct buf *out, long max)
{
	struct buf text;

	buf_init(&text);
	if (webhook_put_output(&text, out->data ? out->data : "", out->len, max)) {
		buf_putc(b, ',');
		put_key(b, key);
		ffjson_put_string(b, text.data, text.len);
	}
	buf_free(&text);
}

static void ts_diff(const struct timespec *end, const struct timespec *start, int64_t *secs,
		    long *nanos)
{
	int64_t s = (int64_t)end->tv_sec - (int64_t)start->tv_sec;
	long ns = end->tv_nsec - start->tv_nsec;

	if (ns < 0) {
		ns += 1000000000L;
		s--;
	}
	*secs = s;
	*nanos = ns;
}

/* One taskStates entry; Factotum leaves out every optional field it has no value for. */
static void put_task_state(struct buf *b, const struct run_task *t, int live_output, long max)
{
	/* Factotum's fields hang off run_result, which exists once the task finished (a skipped
	 * task never ran, so has none). */
	int has_result = t->finished && t->state != TASK_SKIPPED && t->state != TASK_WAITING;
	int has_error;

	buf_putc(b, '{');
	/* "duration" is first in byte order; the first field has no leading comma, so open with
	 * whichever comes first: every later field is written as ",\"key\":...". */
	if (has_result) {
		int64_t s;
		long ns;

		ts_diff(&t->end_mono, &t->start_mono, &s, &ns);
		put_key(b, "duration");
		buf_putc(b, '"');
		webhook_put_duration(b, s, ns);
		buf_puts(b, "\",");
	}
	/* Skipped: the reason. Failed: the execution error or the reason (both end up in
	 * error_message). Factotum emits nothing for a failed task without a run result. */
	has_error = t->error_message &&
		    (t->state == TASK_SKIPPED || (t->state == TASK_FAILED && has_result));
	if (has_error) {
		put_key(b, "errorMessage");
		put_str(b, t->error_message);
		buf_putc(b, ',');
	}
	if (has_result && t->has_return_code)
		buf_printf(b, "\"returnCode\":%d,", t->return_code);
	if (t->started) {
		put_key(b, "started");
		buf_putc(b, '"');
		webhook_put_time(b, &t->start_real);
		buf_puts(b, "\",");
	}
	put_key(b, "state");
	put_str(b, task_name(t->state));
	if (has_result || (live_output && t->state == TASK_RUNNING)) {
		put_output_field(b, "stderr", &t->err, max);
		put_output_field(b, "stdout", &t->out, max);
	}
	buf_putc(b, ',');
	put_key(b, "taskName");
	put_str(b, t->def->name);
	buf_putc(b, '}');
}

static void put_base64(struct buf *b, const char *data, size_t len)
{
	size_t n = BASE64_ENCODE_RAW_LENGTH(len);
	char *out = xmalloc(n + 1);

	base64_encode_raw(out, len, (const uint8_t *)data);
	buf_append(b, out, n);
	free(out);
}

static void put_tags(struct buf *b, const struct factargs *fa)
{
	struct kvlist sorted;
	size_t i;

	buf_putc(b, '{');
	if (fa) {
		/* A HashMap turned into a Json object, hence a BTreeMap: byte-wise key order. */
		kvlist_copy(&sorted, &fa->tags);
		kvlist_sort(&sorted);
		for (i = 0; i < sorted.n; i++) {
			if (i)
				buf_putc(b, ',');
			put_str(b, sorted.items[i].key);
			buf_putc(b, ':');
			put_str(b, sorted.items[i].value);
		}
		kvlist_free(&sorted);
	}
	buf_putc(b, '}');
}

char *webhook_event_json_at(const struct run *run, const char *kind, int previous_job_state,
			    const struct task_transition *transitions, size_t n,
			    long max_stdouterr_size, const struct timespec *now_mono)
{
	int job = strcmp(kind, "job_update") == 0;
	/* Factotum attaches live output of running tasks only with --heartbeat-interval, and only
	 * to task events (heartbeats and task completions). */
	int live = !job && run->fa && run->fa->heartbeat_interval >= 0;
	struct buf b;
	int64_t s;
	long ns;
	size_t i, k;

	buf_init(&b);
	buf_printf(&b, "{\"schema\":\"%s\",\"data\":{", job ? SCHEMA_JOB : SCHEMA_TASK);
	buf_puts(&b, "\"applicationContext\":{\"name\":\"" APP_NAME
		     "\",\"version\":\"" RUNNER_FACTOTUM_VERSION "\"},\"factfile\":\"");
	put_base64(&b, run->ff->compact, run->ff->compact_len);
	buf_puts(&b, "\",\"jobName\":");
	put_str(&b, run->ff->name);
	buf_puts(&b, ",\"jobReference\":");
	put_str(&b, run->job_ref);
	if (job) {
		buf_printf(&b, ",\"jobTransition\":{\"currentState\":\"%s\",\"previousState\":",
			   job_name(run->state));
		if (previous_job_state < 0)
			buf_puts(&b, "null}");
		else
			buf_printf(&b, "\"%s\"}", job_name(previous_job_state));
	}
	/* Factotum subtracts wall-clock times; a monotonic difference cannot go negative. */
	ts_diff(now_mono, &run->start_mono, &s, &ns);
	buf_puts(&b, ",\"runDuration\":\"");
	webhook_put_duration(&b, s, ns);
	buf_puts(&b, "\",\"runReference\":");
	put_str(&b, run->run_ref);
	buf_printf(&b, ",\"runState\":\"%s\",\"startTime\":\"", job_name(run->state));
	webhook_put_time(&b, &run->start_real);
	buf_puts(&b, "\",\"tags\":");
	put_tags(&b, run->fa);
	buf_puts(&b, ",\"taskStates\":[");
	for (k = 0; k < run->n_order; k++) {
		if (k)
			buf_putc(&b, ',');
		put_task_state(&b, &run->tasks[run->order[k]], live, max_stdouterr_size);
	}
	buf_putc(&b, ']');
	if (!job) {
		buf_puts(&b, ",\"taskTransitions\":[");
		for (i = 0; i < n; i++) {
			if (i)
				buf_putc(&b, ',');
			buf_printf(&b, "{\"currentState\":\"%s\",\"previousState\":\"%s\",",
				   task_name(transitions[i].current),
				   task_name(transitions[i].previous));
			put_key(&b, "taskName");
			put_str(&b, run->tasks[transitions[i].task].def->name);
			buf_putc(&b, '}');
		}
		buf_putc(&b, ']');
	}
	buf_puts(&b, "}}");
	return buf_steal(&b);
}

char *webhook_event_json(const struct run *run, const char *kind, int previous_job_state,
			 const struct task_transition *transitions, size_t n,
			 long max_stdouterr_size)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return webhook_event_json_at(run, kind, previous_job_state, transitions, n,
				     max_stdouterr_size, &now);
}
