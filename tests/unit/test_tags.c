/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder: fails until written */
#include <stdio.h>
int main(void)
{
	fputs("test_tags: not written yet\n", stderr);
	return 99;
}
