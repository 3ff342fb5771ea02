/* SPDX-License-Identifier: Apache-2.0 */
/* The cron expressions of cron.h. An expression is one bit set per field; the next slot is found
 * on local wall-clock times, skipping whole months, days, hours and minutes that cannot match,
 * and each matching wall time is then mapped to the first UTC instant whose local time reaches
 * it (which is how gaps merge and repeated hours fire once). */
#include "cron.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "civil.h"
#include "err.h"
#include "xalloc.h"

#define CRON_FIELDS     6
#define CRON_DAY        86400
#define CRON_SPAN_DAYS  1827 /* the 5 years cron_next looks ahead, leap days included */
#define CRON_TIME_BOUND ((int64_t)1 << 40) /* about 34,000 years either side of 1970 */

enum { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW };

struct cron {
	uint64_t bits[CRON_FIELDS]; /* bit v: value v matches; Sunday is bit 0 only */
	int has_seconds;
	int dom_star, dow_star; /* the field starts with `*` (Vixie cron's test) */
};

static const struct cron_field {
	const char *name;
	int lo, hi;
	const char *const *names; /* names[i] is value lo + i */
} cron_fields[CRON_FIELDS] = {
	{ "second", 0, 59, NULL },
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day-of-month", 1, 31, NULL },
	{ "month", 1, 12,
	  (const char *const[]){ "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP",
				 "OCT", "NOV", "DEC", NULL } },
	{ "day-of-week", 0, 7,
	  (const char *const[]){ "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL } },
};

static const struct {
	const char *name, *fields;
} cron_macros[] = {
	{ "@hourly", "0 * * * *" },   { "@daily", "0 0 * * *" },   { "@midnight", "0 0 * * *" },
	{ "@weekly", "0 0 * * 0" },   { "@monthly", "0 0 1 * *" }, { "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
};

/* ---- parsing: each helper returns the position after what it read, or NULL with *why set ---- */

#define CRON_NUM_SHOWN 20 /* digits of a number a message repeats */

/* Reads the digits at *s (at least one): their value, or a value above 1,000,000 for more. */
static long cron_number(const char **s, char **shown)
{
	const char *p = *s;
	long v = 0;

	while (isdigit((unsigned char)*p)) {
		if (v <= 1000000)
			v = v * 10 + (*p - '0');
		p++;
	}
	*shown = xasprintf("%.*s%s", (int)(p - *s > CRON_NUM_SHOWN ? CRON_NUM_SHOWN : p - *s), *s,
			   p - *s > CRON_NUM_SHOWN ? "..." : "");
	*s = p;
	return v;
}

/* The reason for a character that cannot come next, naming the unsupported extensions. */
static char *cron_unexpected(char ch, const struct cron_field *f)
{
	switch (ch) {
	case 'L':
	case 'l':
		return xstrdup("'L' (last day) is not supported");
	case 'W':
	case 'w':
		return xstrdup("'W' (nearest weekday) is not supported");
	case '#':
		return xstrdup("'#' (nth weekday of the month) is not supported");
	case '?':
		return xstrdup("'?' is not supported (use '*')");
	}
	if (isprint((unsigned char)ch))
		return xasprintf("unexpected '%c' in %s field", ch, f->name);
	return xasprintf("unexpected byte 0x%02x in %s field", (unsigned char)ch, f->name);
}

static const char *cron_value(const char *s, const struct cron_field *f, int *out, char **why)
{
	if (isdigit((unsigned char)*s)) {
		char *shown;
		long v = cron_number(&s, &shown);

		if (v < f->lo || v > f->hi)
			*why = xasprintf("%s value %s out of range (%d-%d)", f->name, shown, f->lo,
					 f->hi);
		free(shown);
		if (v < f->lo || v > f->hi)
			return NULL;
		*out = (int)v;
		return s;
	}
	if (isalpha((unsigned char)*s)) {
		size_t n = 0;

		while (isalpha((unsigned char)s[n]))
			n++;
		for (int i = 0; f->names && f->names[i]; i++) {
			if (n == 3 && strncasecmp(s, f->names[i], 3) == 0) {
				*out = f->lo + i;
				return s + n;
			}
		}
		if ((n == 1 || n == 2) && (*s == 'L' || *s == 'l' || *s == 'W' || *s == 'w'))
			*why = cron_unexpected(*s, f);
		else
			*why = xasprintf("unknown name '%.*s' in %s field", (int)(n > 16 ? 16 : n),
					 s, f->name);
		return NULL;
	}
	*why = *s ? cron_unexpected(*s, f) : xasprintf("missing value in %s field", f->name);
	return NULL;
}

/* One comma-separated item: `*`, v or a-b, with an optional /step. */
static const char *cron_item(const char *s, const struct cron_field *f, uint64_t *bits, char **why)
{
	int lo = f->lo, hi = f->hi, single = 0, step = 1;

	if (*s == '*') {
		s++;
	} else {
		if (!(s = cron_value(s, f, &lo, why)))
			return NULL;
		if (*s == '-') {
			if (!(s = cron_value(s + 1, f, &hi, why)))
				return NULL;
			if (hi < lo) {
				*why = xasprintf("reversed range %d-%d in %s field", lo, hi,
						 f->name);
				return NULL;
			}
		} else {
			hi = lo;
			single = 1;
		}
	}
	if (*s == '/') {
		char *shown;
		long v;

		if (!isdigit((unsigned char)*++s)) {
			*why = *s ? cron_unexpected(*s, f)
				  : xasprintf("missing step after '/' in %s field", f->name);
			return NULL;
		}
		v = cron_number(&s, &shown);
		if (v == 0 || v > f->hi - f->lo + 1)
			*why = xasprintf("step %s out of range (1-%d) in %s field", shown,
					 f->hi - f->lo + 1, f->name);
		free(shown);
		if (v == 0 || v > f->hi - f->lo + 1)
			return NULL;
		step = (int)v;
		if (single)
			hi = f->hi;
	}
	for (int v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << (f == &cron_fields[F_DOW] && v == 7 ? 0 : v);
	return s;
}

static int cron_field_parse(const char *s, const struct cron_field *f, uint64_t *bits, char **why)
{
	if (strchr(s, '?')) {
		*why = cron_unexpected('?', f);
		return -1;
	}
	for (;;) {
		if (*s == ',' || *s == '\0') {
			*why = xasprintf("empty list item in %s field", f->name);
			return -1;
		}
		if (!(s = cron_item(s, f, bits, why)))
			return -1;
		if (*s == '\0')
			return 0;
		if (*s != ',') {
			*why = cron_unexpected(*s, f);
			return -1;
		}
		s++;
	}
}

/* Splits s at spaces and tabs into at most max tokens (a copy in *store, caller frees); returns
 * the number of tokens found, which may exceed max. */
static int cron_split(const char *s, char **tok, int max, char **store)
{
	char *p = *store = xstrdup(s);
	int n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return n;
		if (n < max)
			tok[n] = p;
		n++;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

int cron_parse(const char *expr, struct cron **out, char **errp)
{
	struct cron *c = xcalloc(1, sizeof *c);
	char *tok[CRON_FIELDS], *store = NULL, *why = NULL;
	const char *text = expr;
	int n, rc = FS_EINVAL;

	*out = NULL;
	n = cron_split(expr, tok, CRON_FIELDS, &store);
	if (n >= 1 && tok[0][0] == '@') {
		size_t i;

		for (i = 0; i < sizeof cron_macros / sizeof cron_macros[0]; i++)
			if (strcasecmp(tok[0], cron_macros[i].name) == 0)
				break;
		if (i == sizeof cron_macros / sizeof cron_macros[0]) {
			why = xasprintf("unknown macro '%.16s'", tok[0]);
			goto fail;
		}
		if (n > 1) {
			why = xasprintf("%s takes no fields", cron_macros[i].name);
			goto fail;
		}
		text = cron_macros[i].fields;
		free(store);
		n = cron_split(text, tok, CRON_FIELDS, &store);
	}
	if (n == 0) {
		why = xstrdup("empty expression");
		goto fail;
	}
	if (n != 5 && n != 6) {
		why = xasprintf("expected 5 or 6 fields, got %d", n);
		goto fail;
	}
	c->has_seconds = n == 6;
	if (!c->has_seconds)
		c->bits[F_SEC] = 1;
	for (int i = 0; i < n; i++) {
		int field = i + (c->has_seconds ? 0 : 1);

		if (cron_field_parse(tok[i], &cron_fields[field], &c->bits[field], &why) < 0)
			goto fail;
	}
	c->dom_star = tok[n - 3][0] == '*';
	c->dow_star = tok[n - 1][0] == '*';
	free(store);
	*out = c;
	return 0;
fail:
	rc = err_set(errp, FS_EINVAL, "invalid cron expression '%s': %s", expr, why);
	free(why);
	free(store);
	free(c);
	return rc;
}

void cron_free(struct cron *c)
{
	free(c);
}

int cron_has_seconds(const struct cron *c)
{
	return c->has_seconds;
}

/* ---- the next slot ---- */

/* The smallest v in [from, 63] whose bit is set, or -1. */
static int cron_next_bit(uint64_t bits, int from)
{
	if (from > 63)
		return -1;
	bits &= ~(uint64_t)0 << from;
	return bits ? __builtin_ctzll(bits) : -1;
}

static int cron_day_ok(const struct cron *c, int64_t days, int d)
{
	int dom = (int)(c->bits[F_DOM] >> d & 1);
	int dow = (int)(c->bits[F_DOW] >> civil_weekday(days) & 1);

	return c->dom_star || c->dow_star ? dom && dow : dom || dow;
}

/* The first wall-clock time (seconds since 1970-01-01T00:00 local) at or after local that matches
 * c, or INT64_MAX when it would be past day number last_day. */
static int64_t cron_next_local(const struct cron *c, int64_t local, int64_t last_day)
{
	int64_t y, days = civil_floordiv(local, CRON_DAY);
	int64_t sec = local - days * CRON_DAY;
	int m, d, h = (int)(sec / 3600), mi = (int)(sec / 60 % 60), s = (int)(sec % 60), v;

	civil_from_days(days, &y, &m, &d);
	for (;;) {
		if (m > 12) {
			y++;
			m = 1;
		}
		if (civil_days(y, m, 1) > last_day)
			return INT64_MAX;
		if ((v = cron_next_bit(c->bits[F_MON], m)) < 0) {
			y++;
			m = 1, d = 1, h = mi = s = 0;
			continue;
		}
		if (v != m)
			m = v, d = 1, h = mi = s = 0;
		if (d > civil_month_days(y, m)) {
			m++, d = 1, h = mi = s = 0;
			continue;
		}
		days = civil_days(y, m, d);
		if (days > last_day)
			return INT64_MAX;
		if (!cron_day_ok(c, days, d)) {
			d++, h = mi = s = 0;
			continue;
		}
		if ((v = cron_next_bit(c->bits[F_HOUR], h)) < 0) {
			d++, h = mi = s = 0;
			continue;
		}
		if (v != h)
			h = v, mi = s = 0;
		if ((v = cron_next_bit(c->bits[F_MIN], mi)) < 0) {
			h++, mi = s = 0;
			continue;
		}
		if (v != mi)
			mi = v, s = 0;
		if ((v = cron_next_bit(c->bits[F_SEC], s)) < 0) {
			mi++, s = 0;
			continue;
		}
		return days * CRON_DAY + h * 3600 + mi * 60 + v;
	}
}

/* The first UTC instant whose local time is at or past the wall-clock time local: the instant
 * itself, the first of two in a repeated hour, the gap's end for a time in a gap. Walks the
 * zone's intervals of constant offset from two days before (offsets are within a day). */
static int64_t cron_first_instant(const struct tzinfo *tz, int64_t local)
{
	int64_t t = local - 2 * CRON_DAY;

	for (;;) {
		long off = tzinfo_offset(tz, t);
		int64_t end = tzinfo_next_change(tz, t);

		if (end == INT64_MAX || end - 1 + off >= local)
			return t > local - off ? t : local - off;
		t = end;
	}
}

int64_t cron_next(const struct cron *c, const struct tzinfo *tz, int64_t after)
{
	int64_t local, last_day;

	if (after < -CRON_TIME_BOUND || after > CRON_TIME_BOUND)
		return INT64_MAX;
	local = after + tzinfo_offset(tz, after);
	last_day = civil_floordiv(local, CRON_DAY) + CRON_SPAN_DAYS;
	/* No wall time up to local(after) can give a slot after `after`; past it, the first
	 * instants are in order, so the first one past `after` is the answer. Only in the second
	 * pass through a repeated hour does this loop more than once. */
	for (local++;; local++) {
		int64_t t;

		if ((local = cron_next_local(c, local, last_day)) == INT64_MAX)
			return INT64_MAX;
		if ((t = cron_first_instant(tz, local)) > after)
			return t;
	}
}
