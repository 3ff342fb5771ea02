/* SPDX-License-Identifier: Apache-2.0 */
/* The runner stand-in of bench/worker.sh: as the worker's --factotum-bin it is exec'd as
 *     exec_stamp run FACTFILE --tag bench,K
 * and the first thing it does is read CLOCK_REALTIME, which it writes in nanoseconds to the file
 * FACTFILE.stamp.K, then it exits 0. The moment a run's runner starts is thus measured directly
 * (no shell, no date(1)). bench/worker_client's baseline fork+execs this same program with the
 * same arguments. Without a --tag it writes nothing. With several, K is their values joined by
 * '.' in order: a schedule's slot job (bench/schedlat.sh) carries `--tag schedule,NAME --tag
 * slot,TIME` and stamps FACTFILE.stamp.NAME.TIME, one file per slot of each schedule. Compiled with -DSTAMP_FACTFILE='"PATH"',
 * it writes PATH.stamp.K whatever FACTFILE it is given: the worker hands its runs the spool's
 * copy of the factfile (<spool>/factfiles/<sha256>, a directory the run cannot write to), not
 * the path the client submitted and waits next to. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts;
	const char *value, *comma;
	char path[4096], line[32];
	size_t len;
	int i, fd, n, tags = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (argc < 3)
		return 0;
#ifdef STAMP_FACTFILE
	argv[2] = (char *)STAMP_FACTFILE;
#endif
	len = (size_t)snprintf(path, sizeof(path), "%s.stamp", argv[2]);
	for (i = 3; i + 1 < argc && len < sizeof(path); i++) {
		if (strcmp(argv[i], "--tag") != 0)
			continue;
		value = argv[++i];
		comma = strchr(value, ',');
		if (comma != NULL)
			value = comma + 1;
		len += (size_t)snprintf(path + len, sizeof(path) - len, ".%s", value);
		tags++;
	}
	if (tags == 0)
		return 0;
	if (len >= sizeof(path))
		return 1;
	n = snprintf(line, sizeof(line), "%lld\n",
		     (long long)ts.tv_sec * 1000000000LL + (long long)ts.tv_nsec);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		return 1;
	return close(fd) == 0 ? 0 : 1;
}
