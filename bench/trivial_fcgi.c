/* SPDX-License-Identifier: Apache-2.0 */
/* The FastCGI baseline of bench/submit.sh: a responder that does no work at all. It has the
 * responder's thread model (N threads, each calling FCGX_Accept_r on the one shared socket, no
 * accept mutex), reads the request's parameters and whole body as the responder does, and
 * answers every request with a fixed JSON body the size of a /submit acceptance. What it
 * measures is nginx + libfcgi + the round trip: the ceiling of any FastCGI /submit.
 *
 *     trivial_fcgi SOCKET-PATH [THREADS]      (THREADS: default 32, as --fcgi-threads)
 *
 * Listens on a unix socket (an old socket file is replaced, mode 0666: bench only) and exits
 * at SIGTERM/SIGINT. */
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char answer[] =
	"{\"message\":\"SUBMITTING JOB REQ jobId:[0000000000000000000000000000000000000000000000"
	"000000000000000000]\",\"jobId\":\"0000000000000000000000000000000000000000000000000000000"
	"000000000\"}";

static int listen_fd;

static void *serve(void *arg)
{
	FCGX_Request req;
	char head[256], sink[4096];
	int n;

	(void)arg;
	FCGX_InitRequest(&req, listen_fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		/* what the responder reads before it routes */
		(void)FCGX_GetParam("REQUEST_METHOD", req.envp);
		(void)FCGX_GetParam("DOCUMENT_URI", req.envp);
		(void)FCGX_GetParam("QUERY_STRING", req.envp);
		(void)FCGX_GetParam("CONTENT_LENGTH", req.envp);
		while (FCGX_GetStr(sink, sizeof(sink), req.in) > 0)
			;
		n = snprintf(head, sizeof(head),
			     "Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
			     "Content-Length: %d\r\n\r\n",
			     (int)(sizeof(answer) - 1));
		FCGX_PutStr(head, n, req.out);
		FCGX_PutStr(answer, (int)sizeof(answer) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa;
	pthread_t *ths;
	sigset_t stop;
	int i, sig, n = 32;

	if (argc < 2 || argc > 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: trivial_fcgi SOCKET-PATH [THREADS]\n");
		return 2;
	}
	if (argc == 3 && (n = atoi(argv[2])) < 1) {
		fprintf(stderr, "trivial_fcgi: bad thread count '%s'\n", argv[2]);
		return 2;
	}
	FCGX_Init();
	/* libfcgi catches SIGTERM (it only sets a flag): take TERM/INT here, synchronously */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(argv[1], 0666) != 0 || listen(listen_fd, SOMAXCONN) != 0) {
		perror("trivial_fcgi: listen");
		return 1;
	}
	ths = calloc((size_t)n, sizeof(*ths));
	if (ths == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		if (pthread_create(&ths[i], NULL, serve, NULL) != 0) {
			perror("trivial_fcgi: pthread_create");
			return 1;
		}
	}
	sigwait(&stop, &sig);
	unlink(argv[1]);
	_exit(0); /* the threads are blocked in accept or a request: no need to stop them */
}
