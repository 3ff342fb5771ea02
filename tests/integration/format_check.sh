# SPDX-License-Identifier: Apache-2.0
# Keeps the tree in the house style (POSIX sh): every C source and header under the project's
# source directories is as clang-format, with the top-level .clang-format, would write it.
# Skipped (77) where clang-format is not installed; `make format` rewrites the files in place.

set -u

: "${FS_SRCDIR:?run through make check}"

command -v clang-format >/dev/null 2>&1 || { echo "SKIP: clang-format is not installed"; exit 77; }
[ -r "$FS_SRCDIR/.clang-format" ] || { echo "FAIL: no $FS_SRCDIR/.clang-format"; exit 99; }

cd "$FS_SRCDIR" || exit 99
files=$(find core fcgi worker runner launcher bench tests -name '*.[ch]' -type f ! -name nginx_templates.h | sort)
[ -n "$files" ] || { echo "FAIL: no C sources found under $FS_SRCDIR"; exit 99; }
bad=0
for f in $files; do
	if ! clang-format --style=file "$f" | cmp -s - "$f"; then
		echo "FAIL: $f is not formatted (make format)"
		bad=$((bad + 1))
	fi
done
[ "$bad" -eq 0 ] || exit 1
echo "format_check: $(echo "$files" | wc -l) files in the house style"
