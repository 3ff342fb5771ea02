/* SPDX-License-Identifier: Apache-2.0 */
/* The replay driver of a fuzz target, built with the normal compiler (no libFuzzer): every
 * regular file of each directory named on the command line, in name order, is fed once to
 * LLVMFuzzerTestOneInput. Names starting with '.' are skipped (a directory kept in git for crashes
 * yet to be found holds only a placeholder). Prints "<dir>: N inputs" per directory; exits 1 when
 * a directory or file cannot be read. A crash in the target is the process's own death. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole file at path into a new buffer (*lenp bytes); NULL when it cannot be read. */
static uint8_t *replay_slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, n;
	char chunk[8192];

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		data = xrealloc(data, len + n);
		memcpy(data + len, chunk, n);
		len += n;
	}
	if (ferror(f)) {
		free(data);
		data = NULL;
	} else if (data == NULL) {
		data = xmalloc(1); /* an empty input is an input */
	}
	fclose(f);
	*lenp = len;
	return data;
}

static int replay_name(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Feeds every file of dir; the number fed, or -1 after a message. */
static int replay_dir(const char *dir)
{
	struct dirent **names = NULL;
	int n, i, fed = 0;

	n = scandir(dir, &names, replay_name, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]->d_name);
		size_t len;
		uint8_t *data = replay_slurp(path, &len);

		if (data == NULL) {
			fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
			fed = -1;
		} else if (fed >= 0) {
			LLVMFuzzerTestOneInput(data, len);
			fed++;
		}
		free(data);
		free(path);
		free(names[i]);
	}
	free(names);
	return fed;
}

int main(int argc, char **argv)
{
	int i, n, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIRECTORY...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if ((n = replay_dir(argv[i])) < 0) {
			rc = 1;
			continue;
		}
		printf("%s: %d inputs\n", argv[i], n);
	}
	return rc;
}
