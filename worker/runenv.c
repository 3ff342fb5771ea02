/* SPDX-License-Identifier: Apache-2.0 */
/* Building a run's environment (see runenv.h). */
#include "runenv.h"

#include <stdlib.h>

#include "xalloc.h"

char **runenv_build(const struct config *cfg, const char *home, const char *user)
{
	char **env = xcalloc(cfg->n_pass_env + 7, sizeof(*env));
	size_t k = 0, i;
	const char *v;

	env[k++] = xasprintf("PATH=%s", cfg->run_path);
	env[k++] = xasprintf("HOME=%s", home);
	env[k++] = xasprintf("USER=%s", user);
	env[k++] = xasprintf("LOGNAME=%s", user);
	env[k++] = xasprintf("LANG=C.UTF-8");
	env[k++] = xasprintf("LC_ALL=C.UTF-8");
	for (i = 0; i < cfg->n_pass_env; i++)
		if ((v = getenv(cfg->pass_env[i])) != NULL)
			env[k++] = xasprintf("%s=%s", cfg->pass_env[i], v);
	env[k] = NULL;
	return env;
}
