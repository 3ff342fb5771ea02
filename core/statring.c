/* SPDX-License-Identifier: Apache-2.0 */
/* The outcome ring's arithmetic (statring.h). */
#include "statring.h"

int64_t statring_start(int64_t t_ms, int64_t span_ms)
{
	return t_ms - t_ms % span_ms;
}

int statring_slot(int64_t start_ms, int64_t span_ms, int slots)
{
	return (int)(start_ms / span_ms % slots);
}

void statring_window(const struct statring_slot *stored, int slots, int64_t span_ms, int64_t now_ms,
		     struct statring_slot *out)
{
	int64_t last = statring_start(now_ms, span_ms), start;
	const struct statring_slot *s;
	int i;

	for (i = 0; i < slots; i++) {
		start = last - (int64_t)(slots - 1 - i) * span_ms;
		out[i].start_ms = start < 0 ? -1 : start;
		out[i].succeeded = 0;
		out[i].failed = 0;
		if (start < 0)
			continue;
		s = &stored[statring_slot(start, span_ms, slots)];
		if (s->start_ms == start) {
			out[i].succeeded = s->succeeded;
			out[i].failed = s->failed;
		}
	}
}
