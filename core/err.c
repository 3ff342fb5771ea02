/* SPDX-License-Identifier: Apache-2.0 */
/* The error message helper (the codes are in err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdlib.h>

#include "xalloc.h"

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
