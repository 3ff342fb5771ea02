/* SPDX-License-Identifier: Apache-2.0 */
/* Error names and the message helper. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "xalloc.h"

const char *fs_strerror(int code)
{
	switch (code) {
	case FS_OK: return "success";
	case FS_EINVAL: return "invalid input";
	case FS_EIO: return "input/output error";
	case FS_ENOENT: return "not found";
	case FS_EEXIST: return "already exists";
	case FS_EFULL: return "full";
	case FS_EBUSY: return "busy";
	case FS_ESTATE: return "not allowed in this state";
	default: return "unknown error";
	}
}

int err_set(char **errp, int code, const char *fmt, ...)
{
	va_list ap, aq;
	int n;
	char *s;

	if (errp == NULL)
		return code;
	va_start(ap, fmt);
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		n = 0;
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	free(*errp);
	*errp = s;
	return code;
}
