/* SPDX-License-Identifier: Apache-2.0 */
/* bench/consul_cas.c: the raw Consul create rate, the baseline of bench/consul.sh.
 * THREADS threads, each with its own libcurl easy handle (one kept-alive connection), create
 * distinct keys <NS>/<RUN>-<thread>-<n> for SECONDS, one request in flight per thread:
 *   cas  PUT /v1/kv/<key>?cas=0 with a small JSON value; counts answers 200 "true";
 *   txn  PUT /v1/txn [check-not-exists key, lock key value SESSION] (what /submit's claim
 *        writes for a new id); counts answers 200.
 * The value is about the size of the job entry a claim writes. Prints one line:
 *   BENCH ok=<n> other=<n> seconds=<s> p50_ms=<..> p99_ms=<..>
 * (latencies of the counted requests). Only answers that arrive within SECONDS count.
 * Build: cc -O2 -pthread -o consul_cas bench/consul_cas.c -lcurl
 * Run:   consul_cas HOST PORT THREADS SECONDS cas|txn NAMESPACE RUN [SESSION] */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *host, *ns, *run, *session;
static int port, txn_mode;
static double seconds;
static struct timespec t0;

struct thr {
	pthread_t t;
	int id;
	long ok, other;
	double *lat; /* ms of each counted request */
	size_t n_lat, cap_lat;
	char body[512];
	size_t body_len;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - t0.tv_sec) + (ts.tv_nsec - t0.tv_nsec) / 1e9;
}

static size_t write_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct thr *th = ud;
	size_t len = sz * n, room = sizeof(th->body) - 1 - th->body_len;

	memcpy(th->body + th->body_len, p, len < room ? len : room);
	th->body_len += len < room ? len : room;
	th->body[th->body_len] = '\0';
	return len;
}

static void b64(const char *in, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 |
			     (unsigned char)in[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = tab[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned char)in[i] << 16;
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

static void *worker(void *arg)
{
	struct thr *th = arg;
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	char url[1024], key[512], value[1024], value64[1500], req[4096];
	long n = 0;

	if (h == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, th);
	if (txn_mode) {
		snprintf(url, sizeof(url), "http://%s:%d/v1/txn", host, port);
		curl_easy_setopt(h, CURLOPT_URL, url);
	}
	while (now_s() < seconds) {
		double a, b;
		long status = 0;
		CURLcode e;

		n++;
		snprintf(key, sizeof(key), "%s/%s-%d-%ld", ns, run, th->id, n);
		/* about the size and shape of a claim's job entry */
		snprintf(
			value, sizeof(value),
			"{\"state\":\"QUEUED\",\"jobRequest\":{\"jobId\":\"%s-%d-%ld\","
			"\"jobName\":\"bench\",\"factfilePath\":\"/tmp/fs-bench/ff/echo.factfile\","
			"\"factfileArgs\":[\"--tag\",\"bench,%s-%d-%ld\"]},\"lastRunFrom\":\"bench\","
			"\"lastOutcome\":\"WAITING\",\"node\":\"bench\",\"submitted\":1764300000000,"
			"\"updated\":1764300000000}",
			run, th->id, n, run, th->id, n);
		if (txn_mode) {
			b64(value, value64);
			snprintf(req, sizeof(req),
				 "[{\"KV\":{\"Verb\":\"check-not-exists\",\"Key\":\"%s\"}},"
				 "{\"KV\":{\"Verb\":\"lock\",\"Key\":\"%s\",\"Value\":\"%s\","
				 "\"Session\":\"%s\"}}]",
				 key, key, value64, session);
		} else {
			snprintf(url, sizeof(url), "http://%s:%d/v1/kv/%s?cas=0", host, port, key);
			curl_easy_setopt(h, CURLOPT_URL, url);
			snprintf(req, sizeof(req), "%s", value);
		}
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(req));
		th->body_len = 0;
		th->body[0] = '\0';
		a = now_s();
		e = curl_easy_perform(h);
		b = now_s();
		if (e == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (b >= seconds)
			break; /* answered after the end: not counted, as wrk does */
		if (e == CURLE_OK && status == 200 &&
		    (txn_mode || strncmp(th->body, "true", 4) == 0)) {
			th->ok++;
			if (th->n_lat == th->cap_lat) {
				th->cap_lat = th->cap_lat ? 2 * th->cap_lat : 4096;
				th->lat = realloc(th->lat, th->cap_lat * sizeof(double));
				if (th->lat == NULL)
					abort();
			}
			th->lat[th->n_lat++] = (b - a) * 1000;
		} else {
			th->other++;
		}
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct thr *ths;
	int n, i;
	long ok = 0, other = 0;
	size_t n_lat = 0, k;
	double *lat, el;

	if (argc < 8 || (strcmp(argv[5], "cas") != 0 && strcmp(argv[5], "txn") != 0) ||
	    (strcmp(argv[5], "txn") == 0 && argc < 9)) {
		fprintf(stderr,
			"usage: %s HOST PORT THREADS SECONDS cas|txn NAMESPACE RUN "
			"[SESSION]\n",
			argv[0]);
		return 2;
	}
	host = argv[1];
	port = atoi(argv[2]);
	n = atoi(argv[3]);
	seconds = atof(argv[4]);
	txn_mode = strcmp(argv[5], "txn") == 0;
	ns = argv[6];
	run = argv[7];
	session = argc > 8 ? argv[8] : "";
	if (n < 1 || seconds <= 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 2;
	ths = calloc((size_t)n, sizeof(*ths));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		ths[i].id = i + 1;
		if (pthread_create(&ths[i].t, NULL, worker, &ths[i]) != 0)
			return 1;
	}
	for (i = 0; i < n; i++) {
		pthread_join(ths[i].t, NULL);
		ok += ths[i].ok;
		other += ths[i].other;
		n_lat += ths[i].n_lat;
	}
	el = now_s();
	if (el > seconds)
		el = seconds;
	lat = malloc((n_lat ? n_lat : 1) * sizeof(double));
	for (i = 0, k = 0; i < n; i++) {
		memcpy(lat + k, ths[i].lat, ths[i].n_lat * sizeof(double));
		k += ths[i].n_lat;
		free(ths[i].lat);
	}
	qsort(lat, n_lat, sizeof(double), cmp);
	printf("BENCH ok=%ld other=%ld seconds=%.3f p50_ms=%.2f p99_ms=%.2f\n", ok, other, el,
	       n_lat ? lat[n_lat / 2] : 0.0, n_lat ? lat[(size_t)(n_lat * 0.99)] : 0.0);
	free(lat);
	free(ths);
	curl_global_cleanup();
	return 0;
}
