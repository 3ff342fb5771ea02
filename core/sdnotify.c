/* SPDX-License-Identifier: Apache-2.0 */
/* sd_notify's datagram on a plain AF_UNIX socket (contract in sdnotify.h). */
#include "sdnotify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "xalloc.h"

static int sdnotify_fd = -1;

int sdnotify_open(char **errp)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	size_t n;
	int fd = -1, rc;

	if (name == NULL || *name == '\0') {
		unsetenv("NOTIFY_SOCKET");
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	n = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || n >= sizeof(sa.sun_path)) {
		rc = err_set(errp, FS_EINVAL,
			     "NOTIFY_SOCKET: '%s' is neither an absolute path nor an abstract name "
			     "('@...') of a unix socket",
			     name);
		goto fail;
	}
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0'; /* the abstract namespace: the name is the n-1 bytes after */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len) != 0) {
		rc = err_set(errp, FS_EIO, "NOTIFY_SOCKET: cannot reach '%s': %s", name,
			     strerror(errno));
		goto fail;
	}
	unsetenv("NOTIFY_SOCKET");
	sdnotify_fd = fd;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unsetenv("NOTIFY_SOCKET");
	return rc;
}

void sdnotify_send(const char *fmt, ...)
{
	va_list ap;
	char *state;
	ssize_t n;

	if (sdnotify_fd < 0)
		return;
	va_start(ap, fmt);
	state = xvasprintf(fmt, ap);
	va_end(ap);
	do
		n = send(sdnotify_fd, state, strlen(state), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		log_warn("NOTIFY_SOCKET: cannot send '%s': %s", state, strerror(errno));
	free(state);
}

void sdnotify_close(void)
{
	if (sdnotify_fd >= 0)
		close(sdnotify_fd);
	sdnotify_fd = -1;
}
