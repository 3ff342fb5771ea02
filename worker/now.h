/* SPDX-License-Identifier: Apache-2.0 */
/* The time in milliseconds, as the worker and its supervisors count it: monotonic for timers and
 * deadlines (never jumps with the wall clock), real (epoch) for what is stored or shown. */
#ifndef FS_NOW_H
#define FS_NOW_H

#include <stdint.h>

int64_t now_mono_ms(void);
int64_t now_real_ms(void);

#endif
