/* SPDX-License-Identifier: Apache-2.0 */
/* The runner stand-in of bench/worker.sh: as the worker's --factotum-bin it is exec'd as
 *     exec_stamp run FACTFILE --tag bench,K
 * and the first thing it does is read CLOCK_REALTIME, which it writes in nanoseconds to the file
 * FACTFILE.stamp.K, then it exits 0. The moment a run's runner starts is thus measured directly
 * (no shell, no date(1)). bench/worker_client's baseline fork+execs this same program with the
 * same arguments. Without a --tag it writes nothing. Compiled with -DSTAMP_FACTFILE='"PATH"',
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
	const char *key = NULL, *comma;
	char path[4096], line[32];
	int i, fd, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	for (i = 3; i + 1 < argc; i++)
		if (strcmp(argv[i], "--tag") == 0)
			key = argv[i + 1];
	if (argc < 3 || key == NULL)
		return 0;
	comma = strchr(key, ',');
	if (comma != NULL)
		key = comma + 1;
#ifdef STAMP_FACTFILE
	argv[2] = (char *)STAMP_FACTFILE;
#endif
	if ((size_t)snprintf(path, sizeof(path), "%s.stamp.%s", argv[2], key) >= sizeof(path))
		return 1;
	n = snprintf(line, sizeof(line), "%lld\n",
		     (long long)ts.tv_sec * 1000000000LL + (long long)ts.tv_nsec);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		return 1;
	return close(fd) == 0 ? 0 : 1;
}
