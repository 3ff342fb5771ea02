/* SPDX-License-Identifier: Apache-2.0 */
/* A load client for beanstalkd, the peer of bench/submit.sh: CONNS threads, each with its own TCP
 * connection and one request in flight (the same concurrency as wrk's CONNS connections), `put`
 * jobs for SECONDS and count the INSERTED answers. Each job's body is a /submit body with a
 * distinct tag, so every job is a different one.
 *
 *     beanstalk_put HOST PORT CONNS SECONDS FACTFILE
 *
 * Answers that arrive after SECONDS are not counted (as wrk does). Prints:
 *     BENCH ok=<INSERTED> other=<any other answer> seconds=<SECONDS> */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen.h"

static int dial(void)
{
	struct addrinfo hints, *res;
	int fd, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(loadgen_host, loadgen_port, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void *client(void *arg)
{
	struct counts *c = arg;
	char body[1024], msg[1200], reply[256];
	int fd = dial(), blen, mlen, off, n;
	long seq = 0;

	loadgen_start();
	if (fd < 0) {
		c->other++;
		return NULL;
	}
	while (loadgen_running()) {
		blen = snprintf(body, sizeof(body),
				"{\"jobName\":\"bench\",\"factfilePath\":\"%s\","
				"\"factfileArgs\":[\"--tag\",\"bench,b%d-%ld\"]}",
				loadgen_factfile, c->id, ++seq);
		mlen = snprintf(msg, sizeof(msg), "put 0 0 60 %d\r\n%s\r\n", blen, body);
		if (write(fd, msg, (size_t)mlen) != mlen)
			break;
		/* the answer is one line: INSERTED <id>\r\n */
		off = 0;
		while (off < (int)sizeof(reply) - 1) {
			n = (int)read(fd, reply + off, sizeof(reply) - 1 - (size_t)off);
			if (n <= 0)
				goto out;
			off += n;
			if (off >= 2 && reply[off - 2] == '\r' && reply[off - 1] == '\n')
				break;
		}
		reply[off] = '\0';
		if (strncmp(reply, "INSERTED ", 9) != 0)
			c->other++;
		else if (loadgen_running()) /* as wrk: only answers within the time */
			c->ok++;
	}
out:
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	long other;

	return loadgen_main(argc, argv, "beanstalk_put", client, &other);
}
