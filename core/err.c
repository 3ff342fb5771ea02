/* SPDX-License-Identifier: Apache-2.0 */
/* Error names and the message helper. */
#include "err.h"

#include <stdarg.h>
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
	va_list ap;

	if (errp == NULL)
		return code;
	free(*errp);
	va_start(ap, fmt);
	*errp = xvasprintf(fmt, ap);
	va_end(ap);
	return code;
}
