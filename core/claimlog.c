/* SPDX-License-Identifier: Apache-2.0 */
/* The claim journal: the responder's appends and the worker's reading (see claimlog.h). */
#include "claimlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

/* A claim in flight and its last record's line, for a compaction. */
struct claimlog_open_rec {
	long long claim;
	char *line; /* owned */
};

struct claimlog {
	pthread_mutex_t mu;
	int fd;
	char *path;
	struct claimlog_open_rec *open; /* the claims in flight, in no order */
	size_t inflight;
	long long last; /* the last claim's number */
	off_t size;     /* the file's length */
};

int claimlog_open(struct claimlog **logp, const char *spool, pid_t pid, unsigned long long start,
		  char **errp)
{
	struct claimlog *l = xcalloc(1, sizeof(*l));
	char *dir = xasprintf("%s/" CLAIMLOG_DIR, spool);
	int rc = 0;

	l->fd = -1;
	l->path = xasprintf("%s/%ld.%llu", dir, (long)pid, start);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		rc = err_set(errp, FS_EIO, "cannot create '%s': %s", dir, strerror(errno));
		goto fail;
	}
	l->fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
	if (l->fd < 0 || flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
		rc = err_set(errp, FS_EIO, "cannot open the claim journal '%s': %s", l->path,
			     strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&l->mu, NULL);
	*logp = l;
	free(dir);
	return 0;
fail:
	if (l->fd >= 0)
		close(l->fd);
	free(l->path);
	free(l);
	free(dir);
	return rc;
}

void claimlog_close(struct claimlog *l)
{
	if (l == NULL)
		return;
	(void)unlink(l->path);
	close(l->fd);
	pthread_mutex_destroy(&l->mu);
	while (l->inflight > 0)
		free(l->open[--l->inflight].line);
	free(l->open);
	free(l->path);
	free(l);
}

/* The in-flight entry of claim, or NULL. With l->mu held. */
static struct claimlog_open_rec *claimlog_find(struct claimlog *l, long long claim)
{
	size_t i;

	for (i = 0; i < l->inflight; i++)
		if (l->open[i].claim == claim)
			return &l->open[i];
	return NULL;
}

/* Appends one record of claim *claimp, a new claim counted in flight when *claimp is 0. */
static int claimlog_append(struct claimlog *l, const char *key, long long *claimp, const char *prev,
			   char **errp)
{
	struct json_object *o = json_object_new_object();
	struct claimlog_open_rec *rec;
	int rc = 0, begin = *claimp == 0;
	char *line;
	size_t len;
	ssize_t n;

	pthread_mutex_lock(&l->mu);
	if (begin)
		*claimp = l->last + 1;
	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "claim", json_object_new_int64(*claimp));
	json_object_object_add(o, "value", prev != NULL ? json_object_new_string(prev) : NULL);
	line = xasprintf("%s\n",
			 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	len = strlen(line);
	/* one write of the whole line (O_APPEND): a crash leaves at worst a torn last line, and
	 * that one's txn was never sent */
	n = write(l->fd, line, len);
	if (n != (ssize_t)len) {
		rc = err_set(errp, FS_EIO, "Error: cannot record the claim in '%s': %s", l->path,
			     n < 0 ? strerror(errno) : "short write");
	} else {
		l->size += (off_t)len;
		if (begin) {
			l->last = *claimp;
			l->open = xgrow_by_one(l->open, l->inflight, sizeof(*l->open));
			l->open[l->inflight].claim = *claimp;
			l->open[l->inflight++].line = line;
			line = NULL;
		} else if ((rec = claimlog_find(l, *claimp)) != NULL) {
			free(rec->line);
			rec->line = line;
			line = NULL;
		}
	}
	pthread_mutex_unlock(&l->mu);
	free(line);
	return rc;
}

int claimlog_begin(struct claimlog *l, const char *key, long long *claimp, char **errp)
{
	*claimp = 0;
	return claimlog_append(l, key, claimp, NULL, errp);
}

int claimlog_over(struct claimlog *l, const char *key, long long claim, const char *prev,
		  char **errp)
{
	return claimlog_append(l, key, &claim, prev, errp);
}

/* Replaces the journal with one holding only the records of the claims in flight: written beside
 * it, locked, then renamed over it, so that the file always holds every such record. With l->mu
 * held. On failure the journal stays as it is, to be compacted at a later end. */
static void claimlog_compact(struct claimlog *l)
{
	char *tmp = xasprintf("%s.tmp", l->path);
	off_t size = 0;
	size_t i, len;
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0)
		goto fail;
	for (i = 0; i < l->inflight; i++) {
		len = strlen(l->open[i].line);
		if (write(fd, l->open[i].line, len) != (ssize_t)len)
			goto fail;
		size += (off_t)len;
	}
	if (rename(tmp, l->path) != 0)
		goto fail;
	/* the old file's lock goes with its descriptor: a reader holding the old name got
	 * nothing, the new file is locked already */
	close(l->fd);
	l->fd = fd;
	l->size = size;
	free(tmp);
	return;
fail:
	if (fd >= 0) {
		close(fd);
		(void)unlink(tmp);
	}
	free(tmp);
}

void claimlog_end(struct claimlog *l, long long claim)
{
	struct claimlog_open_rec *rec;

	pthread_mutex_lock(&l->mu);
	if ((rec = claimlog_find(l, claim)) != NULL) {
		free(rec->line);
		*rec = l->open[--l->inflight];
	}
	/* nothing in flight: no record is needed any more. Under steady load something always
	 * is: then only the records in flight are kept */
	if (l->inflight == 0 && l->size >= CLAIMLOG_TRUNCATE_AT && ftruncate(l->fd, 0) == 0)
		l->size = 0;
	else if (l->size >= CLAIMLOG_COMPACT_AT)
		claimlog_compact(l);
	pthread_mutex_unlock(&l->mu);
}

/* "<pid>.<start>", digits only. */
static int claimlog_name(const char *name, pid_t *pidp, unsigned long long *startp)
{
	char *end;
	long pid;

	if (name[0] < '1' || name[0] > '9')
		return -1;
	pid = strtol(name, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9' || pid <= 0)
		return -1;
	*startp = strtoull(end + 1, &end, 10);
	if (*end != '\0')
		return -1;
	*pidp = (pid_t)pid;
	return 0;
}

int claimlog_list(const char *spool, struct claimlog_file **filesp, size_t *np, char **errp)
{
	char *dir = xasprintf("%s/" CLAIMLOG_DIR, spool);
	struct claimlog_file f;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	*filesp = NULL;
	*np = 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			rc = err_set(errp, FS_EIO, "cannot read '%s': %s", dir, strerror(errno));
		free(dir);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		if (claimlog_name(de->d_name, &f.pid, &f.start) != 0)
			continue;
		f.path = xasprintf("%s/%s", dir, de->d_name);
		*filesp = xgrow_by_one(*filesp, *np, sizeof(**filesp));
		(*filesp)[(*np)++] = f;
	}
	closedir(d);
	free(dir);
	return 0;
}

void claimlog_files_free(struct claimlog_file *files, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(files[i].path);
	free(files);
}

int claimlog_take(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Adds (or replaces, for a claim seen before) the record of line[0..len) to *recsp; ignores a
 * line that is not a record. */
static void claimlog_add(const char *line, size_t len, struct claimlog_rec **recsp, size_t *np)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, line, (int)len), *k, *c, *v;
	const char *prev = NULL;
	long long claim;
	size_t i;

	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "key", &k) ||
	    !json_object_is_type(k, json_type_string) ||
	    !json_object_object_get_ex(o, "claim", &c) || !json_object_is_type(c, json_type_int) ||
	    !json_object_object_get_ex(o, "value", &v))
		goto done;
	if (v != NULL && !json_object_is_type(v, json_type_string))
		goto done;
	if (v != NULL)
		prev = json_object_get_string(v);
	claim = json_object_get_int64(c);
	/* a second record follows its first closely: look from the end */
	for (i = *np; i > 0 && (*recsp)[i - 1].claim != claim; i--)
		;
	if (i == 0) {
		i = *np;
		*recsp = xgrow_by_one(*recsp, *np, sizeof(**recsp));
		(*recsp)[i].key = xstrdup(json_object_get_string(k));
		(*recsp)[i].claim = claim;
		(*np)++;
	} else {
		i--;
		free((*recsp)[i].prev);
	}
	(*recsp)[i].prev = prev != NULL ? xstrdup(prev) : NULL;
done:
	json_object_put(o);
	json_tokener_free(tok);
}

int claimlog_read(int fd, struct claimlog_rec **recsp, size_t *np, char **errp)
{
	char *buf = NULL, *p, *nl;
	size_t len = 0, cap = 0;
	ssize_t n;

	*recsp = NULL;
	*np = 0;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap * 2 + 4096;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return err_set(errp, FS_EIO, "cannot read a claim journal: %s",
				       strerror(errno));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	for (p = buf; p < buf + len; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(buf + len - p))) == NULL)
			break; /* torn: its txn was never sent */
		claimlog_add(p, (size_t)(nl - p), recsp, np);
	}
	free(buf);
	return 0;
}

void claimlog_recs_free(struct claimlog_rec *recs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(recs[i].key);
		free(recs[i].prev);
	}
	free(recs);
}
