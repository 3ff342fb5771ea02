/* SPDX-License-Identifier: Apache-2.0 */
/* The time zones of tzinfo.h: a TZif file's transitions (RFC 8536) and, past the last of them,
 * its footer's POSIX TZ rule, evaluated with the calendar arithmetic of civil.h. */
#include "tzinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "civil.h"
#include "err.h"
#include "xalloc.h"

#define TZ_NAME_MAX  255
#define TZ_FILE_MAX  (1 << 20)
#define TZ_DIR       "/usr/share/zoneinfo"
#define TZ_DAY       86400
#define TZ_RULE_TIME 7200 /* a POSIX rule's change time when it gives none: 02:00 */

/* One end of daylight saving time in a POSIX TZ rule. */
struct tz_when {
	char kind; /* 'J': Julian day n, 1..365 without Feb 29; 'D': day n, 0..365; 'M': m.w.d */
	int n, m, w, d;
	long time; /* seconds after local midnight of that day, in the time then in force */
};

struct tz_rule {
	int present;
	long std_off, dst_off; /* east of UTC */
	int has_dst;
	struct tz_when start, end;
};

struct tzinfo {
	int64_t *trans;     /* ascending */
	unsigned char *idx; /* the type in force from trans[i] */
	long *type_off;
	size_t ntrans, ntypes;
	struct tz_rule rule;
};

/* ---- the POSIX TZ rule ---- */

static const char *rule_name(const char *s)
{
	const char *p = s;

	if (*p == '<') {
		while (*p && *p != '>')
			p++;
		return *p == '>' && p - s > 1 ? p + 1 : NULL;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]], hours up to 167 (RFC 8536's extension); NULL on a syntax error. */
static const char *rule_hms(const char *s, long *out)
{
	long sign = 1, v[3] = { 0, 0, 0 };
	int i = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	for (;;) {
		int digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 3) {
			v[i] = v[i] * 10 + (*s++ - '0');
			digits++;
		}
		if (digits == 0 || (i > 0 && v[i] > 59))
			return NULL;
		if (++i == 3 || *s != ':')
			break;
		s++;
	}
	if (v[0] > 167)
		return NULL;
	*out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
	return s;
}

static const char *rule_num(const char *s, int lo, int hi, int *out)
{
	int v = 0, digits = 0;

	while (*s >= '0' && *s <= '9' && digits < 4) {
		v = v * 10 + (*s++ - '0');
		digits++;
	}
	if (digits == 0 || v < lo || v > hi)
		return NULL;
	*out = v;
	return s;
}

static const char *rule_when(const char *s, struct tz_when *w)
{
	memset(w, 0, sizeof *w);
	if (*s == 'J') {
		w->kind = 'J';
		s = rule_num(s + 1, 1, 365, &w->n);
	} else if (*s == 'M') {
		w->kind = 'M';
		s = rule_num(s + 1, 1, 12, &w->m);
		if (s && *s++ == '.')
			s = rule_num(s, 1, 5, &w->w);
		else
			s = NULL;
		if (s && *s++ == '.')
			s = rule_num(s, 0, 6, &w->d);
		else
			s = NULL;
	} else {
		w->kind = 'D';
		s = rule_num(s, 0, 365, &w->n);
	}
	w->time = TZ_RULE_TIME;
	if (s && *s == '/')
		s = rule_hms(s + 1, &w->time);
	return s;
}

/* Parses the footer's rule (std offset [dst [offset] [,start[/time],end[/time]]]); an empty
 * footer leaves r absent. -1 on a syntax error. */
static int rule_parse(const char *s, struct tz_rule *r)
{
	long off;

	memset(r, 0, sizeof *r);
	if (*s == '\0')
		return 0;
	if (!(s = rule_name(s)) || !(s = rule_hms(s, &off)))
		return -1;
	r->present = 1;
	r->std_off = -off;
	if (labs(r->std_off) > 25 * 3600)
		return -1;
	if (*s == '\0')
		return 0;
	if (!(s = rule_name(s)))
		return -1;
	r->has_dst = 1;
	r->dst_off = r->std_off + 3600;
	if (*s && *s != ',') {
		if (!(s = rule_hms(s, &off)))
			return -1;
		r->dst_off = -off;
	}
	if (*s == '\0') /* POSIX leaves it to the implementation; the US rules, as glibc */
		s = ",M3.2.0,M11.1.0";
	if (labs(r->std_off) > 25 * 3600 || labs(r->dst_off) > 25 * 3600)
		return -1;
	if (*s++ != ',' || !(s = rule_when(s, &r->start)) || *s++ != ',' ||
	    !(s = rule_when(s, &r->end)) || *s != '\0')
		return -1;
	return 0;
}

static int64_t rule_day(const struct tz_when *w, int64_t y)
{
	int64_t jan1 = civil_days(y, 1, 1), first, day;
	int last;

	if (w->kind == 'J')
		return jan1 + w->n - 1 + (civil_is_leap(y) && w->n >= 60);
	if (w->kind == 'D')
		return jan1 + w->n;
	first = civil_days(y, w->m, 1);
	day = first + (w->d - civil_weekday(first) + 7) % 7 + 7 * (w->w - 1);
	last = civil_month_days(y, w->m);
	while (day >= first + last)
		day -= 7;
	return day;
}

/* The UTC instants daylight saving time starts and ends in year y. */
static void rule_bounds(const struct tz_rule *r, int64_t y, int64_t *start, int64_t *end)
{
	*start = rule_day(&r->start, y) * TZ_DAY + r->start.time - r->std_off;
	*end = rule_day(&r->end, y) * TZ_DAY + r->end.time - r->dst_off;
}

static int64_t rule_year(const struct tz_rule *r, int64_t t)
{
	int64_t y;
	int m, d;

	civil_from_days(civil_floordiv(t + r->std_off, TZ_DAY), &y, &m, &d);
	return y;
}

static long rule_offset(const struct tz_rule *r, int64_t t)
{
	int64_t start, end;
	int dst;

	if (!r->has_dst)
		return r->std_off;
	rule_bounds(r, rule_year(r, t), &start, &end);
	if (start < end)
		dst = start <= t && t < end;
	else /* southern hemisphere: daylight saving time spans the new year */
		dst = !(end <= t && t < start);
	return dst ? r->dst_off : r->std_off;
}

static int64_t rule_next_change(const struct tz_rule *r, int64_t t)
{
	int64_t y = rule_year(r, t), best = INT64_MAX;

	if (!r->has_dst)
		return INT64_MAX;
	for (int64_t k = y - 1; k <= y + 1; k++) {
		int64_t start, end;

		rule_bounds(r, k, &start, &end);
		if (start > t && start < best)
			best = start;
		if (end > t && end < best)
			best = end;
	}
	return best;
}

/* ---- TZif ---- */

static int64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	if (n == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

/* Parses the TZif data of len bytes into tz; -1 when it is not valid TZif. */
static int tzif_parse(const unsigned char *p, size_t len, struct tzinfo *tz)
{
	size_t cnt[6], tsize = 4, body;
	const unsigned char *end = p + len, *q;
	int version;
	char *footer = NULL;
	int rc = -1;

	for (int pass = 0; pass < 2; pass++) {
		if ((size_t)(end - p) < 44 || memcmp(p, "TZif", 4) != 0)
			return -1;
		version = p[4];
		for (int i = 0; i < 6; i++)
			cnt[i] = (size_t)(uint32_t)be(p + 20 + 4 * i, 4);
		/* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
		body = cnt[3] * tsize + cnt[3] + cnt[4] * 6 + cnt[5] + cnt[2] * (tsize + 4) +
		       cnt[1] + cnt[0];
		if (cnt[3] > 100000 || cnt[4] == 0 || cnt[4] > 256 || cnt[2] > 10000 ||
		    (size_t)(end - p) - 44 < body)
			return -1;
		if (pass == 1 || version == 0)
			break;
		p += 44 + body; /* a v2+ file: the 64-bit copy follows the 32-bit one */
		tsize = 8;
	}
	q = p + 44;
	tz->ntrans = cnt[3];
	tz->ntypes = cnt[4];
	tz->trans = xcalloc(tz->ntrans + 1, sizeof *tz->trans);
	tz->idx = xcalloc(tz->ntrans + 1, 1);
	tz->type_off = xcalloc(tz->ntypes, sizeof *tz->type_off);
	for (size_t i = 0; i < tz->ntrans; i++, q += tsize) {
		tz->trans[i] = be(q, (int)tsize);
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
			return -1;
	}
	for (size_t i = 0; i < tz->ntrans; i++) {
		tz->idx[i] = *q++;
		if (tz->idx[i] >= tz->ntypes)
			return -1;
	}
	for (size_t i = 0; i < tz->ntypes; i++, q += 6) {
		tz->type_off[i] = (long)be(q, 4);
		if (tz->type_off[i] < -25 * 3600 || tz->type_off[i] > 26 * 3600)
			return -1;
	}
	q = p + 44 + body;
	if (tsize == 8) {
		const unsigned char *nl;

		if (q >= end || *q != '\n' || !(nl = memchr(q + 1, '\n', (size_t)(end - q - 1))))
			return -1;
		footer = xstrndup((const char *)q + 1, (size_t)(nl - q - 1));
		if (rule_parse(footer, &tz->rule) < 0)
			goto fail;
	}
	rc = 0;
fail:
	free(footer);
	return rc;
}

static int tz_name_ok(const char *name)
{
	size_t len = strlen(name), comp = 0;

	if (len == 0 || len > TZ_NAME_MAX)
		return 0;
	for (const char *s = name;; s++) {
		if (*s == '/' || *s == '\0') {
			if (comp == 0)
				return 0;
			if (*s == '\0')
				return 1;
			comp = 0;
		} else if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			   (*s >= '0' && *s <= '9') || *s == '_' || *s == '+' || *s == '-') {
			comp++;
		} else {
			return 0;
		}
	}
}

/* Reads at most TZ_FILE_MAX bytes of path; NULL when it cannot (no file, a directory). */
static unsigned char *tz_read(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *data = NULL;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TZ_FILE_MAX)
		goto fail;
	data = xmalloc((size_t)st.st_size + 1);
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, data + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	close(fd);
	return data;
fail:
	close(fd);
	return NULL;
}

int tzinfo_load(const char *name, struct tzinfo **out, char **errp)
{
	struct tzinfo *tz = xcalloc(1, sizeof *tz);
	const char *dir = getenv("TZDIR");
	unsigned char *data = NULL;
	char *path = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
		tz->type_off = xcalloc(1, sizeof *tz->type_off);
		tz->ntypes = 1;
		*out = tz;
		return 0;
	}
	if (!tz_name_ok(name)) {
		rc = err_set(errp, FS_EINVAL, "unknown time zone '%s'", name);
		goto fail;
	}
	path = xasprintf("%s/%s", dir && *dir ? dir : TZ_DIR, name);
	if (!(data = tz_read(path, &len))) {
		rc = err_set(errp, FS_EINVAL, "unknown time zone '%s'", name);
		goto fail;
	}
	if (tzif_parse(data, len, tz) < 0) {
		rc = err_set(errp, FS_EINVAL, "unknown time zone '%s': not a valid TZif file",
			     name);
		goto fail;
	}
	free(data);
	free(path);
	*out = tz;
	return 0;
fail:
	free(data);
	free(path);
	tzinfo_free(tz);
	return rc;
}

void tzinfo_free(struct tzinfo *tz)
{
	if (!tz)
		return;
	free(tz->trans);
	free(tz->idx);
	free(tz->type_off);
	free(tz);
}

/* The index of the last transition at or before t; -1 when t is before the first. */
static long tz_find(const struct tzinfo *tz, int64_t t)
{
	size_t lo = 0, hi = tz->ntrans;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->trans[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

long tzinfo_offset(const struct tzinfo *tz, int64_t t)
{
	long i;

	if (!tz)
		return 0;
	i = tz_find(tz, t);
	if (tz->rule.present && i == (long)tz->ntrans - 1 && (i >= 0 || tz->ntrans == 0))
		return rule_offset(&tz->rule, t);
	/* before the first transition: the first type (RFC 8536, 3.2) */
	return tz->type_off[i < 0 ? 0 : tz->idx[i]];
}

int64_t tzinfo_next_change(const struct tzinfo *tz, int64_t t)
{
	long i;

	if (!tz)
		return INT64_MAX;
	i = tz_find(tz, t);
	if (i + 1 < (long)tz->ntrans)
		return tz->trans[i + 1];
	return tz->rule.present ? rule_next_change(&tz->rule, t) : INT64_MAX;
}
