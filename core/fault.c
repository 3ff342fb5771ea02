/* SPDX-License-Identifier: Apache-2.0 */
/* The fault-injection seam (see fault.h). Built into every program, but compiled to nothing
 * unless FS_FAULT_INJECTION is defined. */
#include "fault.h"

#ifdef FS_FAULT_INJECTION
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAULT_MAX 16

struct fault {
	char point[96];
	char action[16];
	unsigned long nth; /* fires on this hit */
	unsigned long hits;
};

static struct fault faults[FAULT_MAX];
static size_t nfaults;
static int parsed;

/* Reads FS_FAULT once; an entry it cannot read is reported and ignored. */
static void fault_parse(void)
{
	const char *env = getenv("FS_FAULT"), *p, *end, *eq, *at;
	struct fault *f;
	size_t len;

	parsed = 1;
	for (p = env; p != NULL && *p != '\0'; p = *end == ',' ? end + 1 : end) {
		end = p + strcspn(p, ",");
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL || nfaults == FAULT_MAX || (size_t)(eq - p) >= sizeof(f->point)) {
			fprintf(stderr, "fault: FS_FAULT entry '%.*s' ignored\n", (int)(end - p),
				p);
			continue;
		}
		f = &faults[nfaults];
		memcpy(f->point, p, (size_t)(eq - p));
		f->point[eq - p] = '\0';
		at = memchr(eq, '@', (size_t)(end - eq));
		len = (size_t)((at != NULL ? at : end) - (eq + 1));
		if (len == 0 || len >= sizeof(f->action)) {
			fprintf(stderr, "fault: FS_FAULT entry '%.*s' ignored\n", (int)(end - p),
				p);
			continue;
		}
		memcpy(f->action, eq + 1, len);
		f->action[len] = '\0';
		f->nth = at != NULL ? strtoul(at + 1, NULL, 10) : 1;
		if (f->nth == 0)
			f->nth = 1;
		nfaults++;
	}
}

int fault_at(const char *point)
{
	struct fault *f = NULL;
	size_t i;

	if (!parsed)
		fault_parse();
	for (i = 0; i < nfaults && f == NULL; i++)
		if (strcmp(faults[i].point, point) == 0)
			f = &faults[i];
	if (f == NULL || ++f->hits != f->nth)
		return 0;
	fprintf(stderr, "fault: %s: %s\n", point, f->action);
	if (strcmp(f->action, "kill") == 0)
		kill(getpid(), SIGKILL);
	else if (strcmp(f->action, "abort") == 0)
		abort();
	else if (strcmp(f->action, "exit") == 0)
		_exit(70);
	else if (strcmp(f->action, "eio") == 0)
		return -EIO;
	else if (strcmp(f->action, "enospc") == 0)
		return -ENOSPC;
	else if (strcmp(f->action, "eintr") == 0)
		return -EINTR;
	fprintf(stderr, "fault: %s: unknown action '%s' ignored\n", point, f->action);
	return 0;
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int fault_unused;
#endif
