/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl loaded at run time (curlload.h). */
#include "curlload.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static struct curlfns fns;

static const struct {
	const char *name;
	size_t off;
} curlload_syms[] = {
	{ "curl_global_init", offsetof(struct curlfns, global_init) },
	{ "curl_easy_strerror", offsetof(struct curlfns, easy_strerror) },
	{ "curl_easy_init", offsetof(struct curlfns, easy_init) },
	{ "curl_easy_setopt", offsetof(struct curlfns, easy_setopt) },
	{ "curl_easy_getinfo", offsetof(struct curlfns, easy_getinfo) },
	{ "curl_easy_perform", offsetof(struct curlfns, easy_perform) },
	{ "curl_easy_reset", offsetof(struct curlfns, easy_reset) },
	{ "curl_easy_cleanup", offsetof(struct curlfns, easy_cleanup) },
	{ "curl_multi_init", offsetof(struct curlfns, multi_init) },
	{ "curl_multi_add_handle", offsetof(struct curlfns, multi_add_handle) },
	{ "curl_multi_remove_handle", offsetof(struct curlfns, multi_remove_handle) },
	{ "curl_multi_perform", offsetof(struct curlfns, multi_perform) },
	{ "curl_multi_poll", offsetof(struct curlfns, multi_poll) },
	{ "curl_multi_info_read", offsetof(struct curlfns, multi_info_read) },
	{ "curl_multi_wakeup", offsetof(struct curlfns, multi_wakeup) },
	{ "curl_multi_cleanup", offsetof(struct curlfns, multi_cleanup) },
	{ "curl_slist_append", offsetof(struct curlfns, slist_append) },
	{ "curl_slist_free_all", offsetof(struct curlfns, slist_free_all) },
	{ "curl_url", offsetof(struct curlfns, url) },
	{ "curl_url_set", offsetof(struct curlfns, url_set) },
	{ "curl_url_get", offsetof(struct curlfns, url_get) },
	{ "curl_url_cleanup", offsetof(struct curlfns, url_cleanup) },
	{ "curl_free", offsetof(struct curlfns, free) },
};

static pthread_once_t curlload_once = PTHREAD_ONCE_INIT;
static char curlload_error[256]; /* why loading failed; "" once fns is usable */

/* Loads libcurl, fills fns and initialises libcurl, or leaves the reason in curlload_error. */
static void curlload_run(void)
{
	const char *why, *so = getenv(CURLLOAD_ENV);
	curl_version_info_data *(*version_info)(CURLversion);
	curl_version_info_data *vi;
	void *h, *sym;
	size_t i;
	CURLcode rc;

	if (so == NULL || *so == '\0')
		so = CURLLOAD_SONAME;
	h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		why = dlerror();
		snprintf(curlload_error, sizeof(curlload_error),
			 "cannot load %s (install libcurl4): %s", so,
			 why != NULL ? why : "unknown error");
		return;
	}
	for (i = 0; i < sizeof(curlload_syms) / sizeof(curlload_syms[0]); i++) {
		sym = dlsym(h, curlload_syms[i].name);
		if (sym == NULL) {
			snprintf(curlload_error, sizeof(curlload_error),
				 "%s has no %s (libcurl 7.85 or later is needed)", so,
				 curlload_syms[i].name);
			return;
		}
		/* POSIX guarantees that a function pointer survives the trip through void * */
		memcpy((char *)&fns + curlload_syms[i].off, &sym, sizeof(sym));
	}
	/* the options set here need 7.85 (CURLOPT_PROTOCOLS_STR): an older library would refuse
	 * them one by one, quietly */
	version_info = (curl_version_info_data * (*)(CURLversion)) dlsym(h, "curl_version_info");
	vi = version_info != NULL ? version_info(CURLVERSION_NOW) : NULL;
	if (vi == NULL || vi->version_num < 0x075500) {
		snprintf(curlload_error, sizeof(curlload_error),
			 "%s is libcurl %s; 7.85 or later is needed", so,
			 vi != NULL && vi->version != NULL ? vi->version : "(unknown version)");
		return;
	}
	rc = fns.global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK)
		snprintf(curlload_error, sizeof(curlload_error), "cannot initialise libcurl: %s",
			 fns.easy_strerror(rc));
}

const struct curlfns *curlload(char **errp)
{
	pthread_once(&curlload_once, curlload_run);
	if (curlload_error[0] != '\0') {
		err_set(errp, FS_EIO, "%s", curlload_error);
		return NULL;
	}
	return &fns;
}
