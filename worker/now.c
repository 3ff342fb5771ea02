/* SPDX-License-Identifier: Apache-2.0 */
/* The time in milliseconds (see now.h). */
#include "now.h"

#include <time.h>

static int64_t now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t now_mono_ms(void)
{
	return now_ms(CLOCK_MONOTONIC);
}

int64_t now_real_ms(void)
{
	return now_ms(CLOCK_REALTIME);
}
