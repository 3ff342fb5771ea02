/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl, loaded at run time with dlopen() instead of linked. A program that never speaks HTTP
 * then maps neither libcurl nor its ~30 libraries: the runner starts once per job (resolving them
 * cost ~4 ms of a ~6 ms run), and the worker forks a supervisor per job, each fork costing in
 * proportion to the mappings (bench/README: ~390 us with libcurl mapped, ~160 us without). Only
 * the runner's --webhook, Consul (the responder's claims, the worker's sync) and the responder's
 * check of client webhook hosts (its URL parser) load it. curl.h
 * is still used for its types and constants; every call goes through the table. */
#ifndef FS_CURLLOAD_H
#define FS_CURLLOAD_H

#include <curl/curl.h>

/* The shared object loaded (libcurl4's soname on Debian 12), unless the environment variable
 * CURLLOAD_ENV names another (for tests of a missing library). */
#define CURLLOAD_SONAME "libcurl.so.4"
#define CURLLOAD_ENV    "FS_LIBCURL_SONAME"

/* The libcurl functions this project calls. */
struct curlfns {
	CURLcode (*global_init)(long flags);
	const char *(*easy_strerror)(CURLcode code);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *easy, CURLoption option, ...);
	CURLcode (*easy_getinfo)(CURL *easy, CURLINFO info, ...);
	CURLcode (*easy_perform)(CURL *easy);
	void (*easy_reset)(CURL *easy);
	void (*easy_cleanup)(CURL *easy);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *multi, CURL *easy);
	CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *easy);
	CURLMcode (*multi_perform)(CURLM *multi, int *running);
	CURLMcode (*multi_poll)(CURLM *multi, struct curl_waitfd extra[], unsigned int n,
				int timeout_ms, int *numfds);
	CURLMsg *(*multi_info_read)(CURLM *multi, int *left);
	CURLMcode (*multi_wakeup)(CURLM *multi);
	CURLMcode (*multi_cleanup)(CURLM *multi);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
	CURLU *(*url)(void);
	CURLUcode (*url_set)(CURLU *u, CURLUPart part, const char *content, unsigned int flags);
	CURLUcode (*url_get)(CURLU *u, CURLUPart part, char **content, unsigned int flags);
	void (*url_cleanup)(CURLU *u);
	void (*free)(void *p);
};

/* The table, loaded and curl_global_init'ed by the first call (any thread; the later ones wait
 * for it), or NULL with *errp (if errp; the caller frees it) saying why, e.g. "cannot load
 * libcurl.so.4 (install libcurl4): ...". Static storage, never unloaded: libcurl keeps global
 * state until the process exits. */
const struct curlfns *curlload(char **errp);

#endif
