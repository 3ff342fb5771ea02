/* SPDX-License-Identifier: Apache-2.0 */
/* Process identity and session sweeps through /proc (see proc.h). */
#include "proc.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads /proc/<pid>/stat and returns the fields after the command name (whose parentheses may
 * hold anything, spaces and ')' included: the last ')' ends it). buf receives the text. */
static const char *proc_fields(pid_t pid, char *buf, size_t size)
{
	char path[64];
	const char *rp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	if (rp == NULL || rp[1] != ' ')
		return NULL;
	return rp + 2;
}

/* Field k (3-based as in proc(5): 3 = state) of the text after the command name, as a number. */
static int proc_field(const char *f, int k, unsigned long long *vp)
{
	char *end;
	int i;

	for (i = 3; i < k; i++) {
		f = strchr(f, ' ');
		if (f == NULL)
			return -1;
		f++;
	}
	if (!isdigit((unsigned char)*f) && *f != '-')
		return -1;
	*vp = strtoull(f, &end, 10);
	return end == f ? -1 : 0;
}

int proc_stat(pid_t pid, unsigned long long *startp, char *statep)
{
	char buf[1024];
	const char *f = proc_fields(pid, buf, sizeof(buf));

	if (f == NULL || proc_field(f, 22, startp) != 0)
		return -1;
	if (statep != NULL)
		*statep = *f;
	return 0;
}

int proc_boot_id(char *buf, size_t size)
{
	char text[64];
	ssize_t n;
	int fd, i;

	buf[0] = '\0';
	if (size < 37)
		return -1;
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 36 || (n > 36 && text[36] != '\n'))
		return -1;
	for (i = 0; i < 36; i++)
		if (!isxdigit((unsigned char)text[i]) && text[i] != '-')
			return -1;
	memcpy(buf, text, 36);
	buf[36] = '\0';
	return 0;
}

int proc_is(pid_t pid, unsigned long long start)
{
	unsigned long long now;
	char state;

	if (pid <= 0 || proc_stat(pid, &now, &state) != 0)
		return 0;
	return now == start && state != 'Z' && state != 'X';
}

/* Sends sig to every live process whose stat field k (proc(5) numbering) is value; returns the
 * number signalled. */
static int proc_signal_where(int k, pid_t value, int sig)
{
	struct dirent *de;
	unsigned long long v;
	char buf[1024];
	const char *f;
	DIR *d;
	int n = 0;

	if (value <= 1 || (d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		if ((f = proc_fields(pid, buf, sizeof(buf))) == NULL || proc_field(f, k, &v) != 0 ||
		    (pid_t)v != value || *f == 'Z' || *f == 'X')
			continue;
		if (kill(pid, sig) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int proc_signal_session(pid_t sid, int sig)
{
	return proc_signal_where(6, sid, sig); /* field 6: the session id */
}

/* sig to each live process listed in one /proc/<pid>/task/<tid>/children file; the count. */
static int proc_signal_listed(const char *path, int sig)
{
	char buf[4096], sbuf[1024], *p, *end;
	const char *f;
	ssize_t n;
	int fd, count = 0;
	pid_t pid;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* one read: the kernel fills it with as many whole "pid " entries as fit; any further
	 * children are found at the caller's next look */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (p = buf; *p != '\0'; p = end) {
		pid = (pid_t)strtol(p, &end, 10);
		if (end == p)
			break;
		if ((f = proc_fields(pid, sbuf, sizeof(sbuf))) != NULL && *f != 'Z' && *f != 'X' &&
		    kill(pid, sig) == 0)
			count++;
	}
	return count;
}

int proc_signal_children(pid_t ppid, int sig)
{
	struct dirent *de;
	char path[320];
	DIR *d;
	int n = 0;

	/* the children lists of ppid's threads (CONFIG_PROC_CHILDREN): a few reads instead of a
	 * look at every process of the machine, at the end of every run */
	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)ppid, (long)ppid);
	if (access(path, R_OK) != 0)
		return proc_signal_where(4, ppid, sig); /* field 4: the parent */
	snprintf(path, sizeof(path), "/proc/%ld/task", (long)ppid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%s/children", (long)ppid, de->d_name);
		n += proc_signal_listed(path, sig);
	}
	closedir(d);
	return n;
}
