/* SPDX-License-Identifier: Apache-2.0 */
/* The measuring client of bench/worker.sh (the worker benchmarks) and its baselines.
 * HTTP is plain HTTP/1.1 over loopback TCP to nginx, one connection per request (as a user's
 * curl would), so that nothing but the server is between the two timestamps.
 *
 *   worker_client fork N BIN FACTFILE KEY
 *       baseline: N times, read CLOCK_REALTIME, fork, exec `BIN run FACTFILE --tag bench,KEY-i`
 *       (bench/exec_stamp, which stamps its own start), wait; prints N latencies (ns), one a line
 *   worker_client submit PORT N FACTFILE KEY
 *       N sequential jobs through nginx: read CLOCK_REALTIME just before writing
 *       POST /submit {"factfileArgs":["--tag","bench,KEY-i"]...}, wait (inotify) for the stamp
 *       the runner stand-in writes at exec, print "stamp-send answer-send" (ns; the second is the
 *       200's arrival, for the breakdown); then poll GET /check until the job is DONE, so that
 *       every sample starts with an idle worker
 *   worker_client burst PORT N CONC FACTFILE KEY
 *       N distinct jobs submitted by CONC processes, each one request after another; prints the
 *       CLOCK_REALTIME millisecond just before the first request; exit 1 if any answer is not 200
 *   worker_client spawn N P [PROGRAM ARG...]
 *       baseline: N `sh -c true` run with P at a time (fork + exec /bin/sh); prints elapsed ns.
 *       With PROGRAM (an absolute path), that command instead, its output to /dev/null (the
 *       diagnostic row: the bundled runner alone, without the server) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "worker_client: %s: %s\n", what, errno != 0 ? strerror(errno) : "failed");
	exit(1);
}

/* One request on a new connection; *sent_ns (if not NULL) is CLOCK_REALTIME just before the
 * request is written. Returns the status code, the body in buf (NUL-terminated). */
static int http(int port, const char *method, const char *path, const char *body, char *buf,
		size_t size, long long *sent_ns)
{
	struct sockaddr_in sa;
	char req[8192];
	size_t len = 0;
	ssize_t n;
	int fd, one = 1, status = 0, rl;
	char *p;

	if (body != NULL)
		rl = snprintf(req, sizeof(req),
			      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			      "Connection: close\r\nContent-Type: application/json\r\n"
			      "Content-Length: %zu\r\n\r\n%s",
			      method, path, strlen(body), body);
	else
		rl = snprintf(req, sizeof(req),
			      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			      "Connection: close\r\n\r\n",
			      method, path);
	if (rl < 0 || (size_t)rl >= sizeof(req))
		die("request too long");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("connect");
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (sent_ns != NULL)
		*sent_ns = now_ns(CLOCK_REALTIME);
	if (write(fd, req, (size_t)rl) != rl)
		die("write");
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	p = strstr(buf, "\r\n\r\n");
	if (p != NULL)
		memmove(buf, p + 4, strlen(p + 4) + 1);
	return status;
}

static void submit_body(char *out, size_t size, const char *name, const char *ff, const char *key)
{
	if ((size_t)snprintf(out, size,
			     "{\"jobName\":\"%s\",\"factfilePath\":\"%s\","
			     "\"factfileArgs\":[\"--tag\",\"bench,%s\"]}",
			     name, ff, key) >= size)
		die("body too long");
}

/* The stamp file's content (ns) once it is complete; -1 if absent or partial. */
static long long read_stamp(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 1 || buf[n - 1] != '\n')
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

static int cmd_fork(int n, const char *bin, const char *ff, const char *key)
{
	char k[256], tag[300], path[4096];
	long long t0, st;
	int i, status;
	pid_t pid;

	for (i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "%s-%d", key, i);
		snprintf(tag, sizeof(tag), "bench,%s", k);
		snprintf(path, sizeof(path), "%s.stamp.%s", ff, k);
		(void)unlink(path);
		t0 = now_ns(CLOCK_REALTIME);
		pid = fork();
		if (pid == 0) {
			execl(bin, bin, "run", ff, "--tag", tag, (char *)NULL);
			_exit(127);
		}
		if (pid < 0)
			die("fork");
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0 || (st = read_stamp(path)) < 0) {
			errno = 0;
			die("the stamp program failed");
		}
		printf("%lld\n", st - t0);
		(void)unlink(path);
	}
	return 0;
}

static int cmd_submit(int port, int n, const char *ff, const char *key)
{
	char k[256], name[300], body[8192], buf[65536], path[4096], dir[4096], url[128], id[65];
	char evbuf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const char *p;
	long long sent, answered, st;
	int i, ino, status, tries;

	snprintf(dir, sizeof(dir), "%s", ff);
	if (strrchr(dir, '/') == NULL)
		die("FACTFILE must be absolute");
	*strrchr(dir, '/') = '\0';
	ino = inotify_init1(IN_CLOEXEC);
	if (ino < 0 || inotify_add_watch(ino, dir, IN_CLOSE_WRITE) < 0)
		die("inotify");
	for (i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "%s-%d", key, i);
		snprintf(name, sizeof(name), "lat-%s", k);
		snprintf(path, sizeof(path), "%s.stamp.%s", ff, k);
		(void)unlink(path);
		submit_body(body, sizeof(body), name, ff, k);
		status = http(port, "POST", "/submit", body, buf, sizeof(buf), &sent);
		answered = now_ns(CLOCK_REALTIME);
		p = strstr(buf, "\"jobId\":\"");
		if (status != 200 || p == NULL || strlen(p + 9) < 64) {
			fprintf(stderr, "worker_client: /submit answered %d %s\n", status, buf);
			return 1;
		}
		memcpy(id, p + 9, 64);
		id[64] = '\0';
		/* the stamp, complete once its writer closed it */
		for (;;) {
			struct pollfd pf = { .fd = ino, .events = POLLIN, .revents = 0 };
			ssize_t len;

			if ((st = read_stamp(path)) >= 0)
				break;
			if (poll(&pf, 1, 30000) != 1) {
				errno = 0;
				fprintf(stderr, "worker_client: job %s: no runner after 30 s\n",
					id);
				return 1;
			}
			/* any close-after-write in the directory: look again (the events
			 * themselves are only a wake-up) */
			len = read(ino, evbuf, sizeof(evbuf));
			(void)len;
		}
		printf("%lld %lld\n", st - sent, answered - sent);
		fflush(stdout);
		(void)unlink(path);
		snprintf(url, sizeof(url), "/check?id=%s", id);
		for (tries = 0;; tries++) {
			status = http(port, "GET", url, NULL, buf, sizeof(buf), NULL);
			if (status == 200 && strstr(buf, "\"state\":\"DONE\"") != NULL)
				break;
			if (tries > 15000) {
				fprintf(stderr, "worker_client: job %s not DONE: %s\n", id, buf);
				return 1;
			}
			usleep(2000);
		}
	}
	return 0;
}

static int cmd_burst(int port, int n, int conc, const char *ff, const char *key)
{
	char k[256], name[300], body[8192], buf[65536];
	int c, i, status, bad = 0;
	pid_t pid;

	printf("%lld\n", now_ns(CLOCK_REALTIME) / 1000000);
	fflush(stdout);
	for (c = 0; c < conc; c++) {
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid > 0)
			continue;
		for (i = c; i < n; i += conc) {
			snprintf(k, sizeof(k), "%s-%d", key, i);
			snprintf(name, sizeof(name), "thr-%s", k);
			submit_body(body, sizeof(body), name, ff, k);
			status = http(port, "POST", "/submit", body, buf, sizeof(buf), NULL);
			if (status != 200) {
				fprintf(stderr, "worker_client: /submit answered %d %s\n", status,
					buf);
				_exit(1);
			}
		}
		_exit(0);
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad = 1;
	return bad;
}

static int cmd_spawn(int n, int par, char **cmd)
{
	static char *sh_true[] = { "sh", "-c", "true", NULL };
	const char *path = cmd != NULL ? cmd[0] : "/bin/sh";
	long long t0 = now_ns(CLOCK_MONOTONIC);
	int started = 0, running = 0, status, bad = 0;
	pid_t pid;

	while (started < n || running > 0) {
		while (started < n && running < par) {
			pid = fork();
			if (pid == 0) {
				if (cmd != NULL) {
					int nul = open("/dev/null", O_WRONLY);

					(void)dup2(nul, STDOUT_FILENO);
					(void)dup2(nul, STDERR_FILENO);
				}
				execv(path, cmd != NULL ? cmd : sh_true);
				_exit(127);
			}
			if (pid < 0)
				die("fork");
			started++;
			running++;
		}
		if (wait(&status) < 0)
			die("wait");
		running--;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad = 1;
	}
	printf("%lld\n", now_ns(CLOCK_MONOTONIC) - t0);
	return bad;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "fork") == 0)
		return cmd_fork(atoi(argv[2]), argv[3], argv[4], argv[5]);
	if (argc == 6 && strcmp(argv[1], "submit") == 0)
		return cmd_submit(atoi(argv[2]), atoi(argv[3]), argv[4], argv[5]);
	if (argc == 7 && strcmp(argv[1], "burst") == 0)
		return cmd_burst(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argv[5], argv[6]);
	if (argc >= 4 && strcmp(argv[1], "spawn") == 0)
		return cmd_spawn(atoi(argv[2]), atoi(argv[3]), argc > 4 ? argv + 4 : NULL);
	fprintf(stderr, "usage: worker_client fork N BIN FACTFILE KEY | submit PORT N FACTFILE KEY"
			" | burst PORT N CONC FACTFILE KEY | spawn N P [PROGRAM ARG...]\n");
	return 2;
}
