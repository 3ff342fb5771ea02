/* SPDX-License-Identifier: Apache-2.0 */
/* The responder's two uses of the worker's unix datagram socket: the wake-up after a commit (so
 * the worker never polls) and the liveness probe of /status, /health and /cancel. */
#include "app.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int workersock_addr(const struct app *app, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(app->worker_sock) >= sizeof(sa->sun_path))
		return -1;
	memcpy(sa->sun_path, app->worker_sock, strlen(app->worker_sock));
	return 0;
}

int workersock_alive(const struct app *app)
{
	struct sockaddr_un sa;
	int fd, alive = 0;

	if (workersock_addr(app, &sa) != 0)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	/* A datagram connect succeeds only while some process has the path bound: a socket file
	 * left by a dead worker gives ECONNREFUSED. */
	alive = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return alive;
}

void workersock_wake(const struct app *app)
{
	struct sockaddr_un sa;
	int fd;

	if (workersock_addr(app, &sa) != 0)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	/* ENOENT/ECONNREFUSED (no worker) and EAGAIN (its queue is full: it is awake anyway) are
	 * all fine: the job is already durable in the spool. */
	(void)sendto(fd, "w", 1, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
}
