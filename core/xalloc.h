/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation that aborts on exhaustion (tmux's xmalloc): callers never check for NULL. */
#ifndef FS_XALLOC_H
#define FS_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* Each returns memory the caller frees with free(); never NULL. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows an array of n elements of size each to room for n+1 elements (append loops); unlike
 * reallocarray(3), the count given is the current one, not the new one. */
void *xgrow_by_one(void *ptr, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* A growable byte buffer, always NUL-terminated. Caller owns buf->data (free()). */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
void buf_init(struct buf *b);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the string to the caller (who frees it) and leaves b empty. */
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

#endif
