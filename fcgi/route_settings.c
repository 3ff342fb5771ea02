/* SPDX-License-Identifier: Apache-2.0 */
/* POST /settings {"state":"run"|"drain"}: the node's run/drain state, kept in the spool so that
 * it holds for every responder process and survives restarts. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "spool.h"

void route_settings(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	struct json_object *obj = NULL;
	const char *state;
	char *err = NULL, *msg = NULL;

	if (route_post_object(app, fr, req, "SettingsRequest", &obj) != 0)
		return;
	if (route_string_field(fr, req, obj, "state", &state) != 0)
		goto done;
	/* exact words, as the original compared them */
	if (strcmp(state, "run") != 0 && strcmp(state, "drain") != 0) {
		http_respond_message(fr, req, 400,
				     "Validation Error: Invalid 'state', must be one "
				     "of (run|drain)");
		goto done;
	}
	if (spool_drain_set(app->sp, strcmp(state, "drain") == 0, &err) != 0) {
		msg = xasprintf("Error: the setting could not be stored: %s", err);
		http_respond_message(fr, req, 500, msg);
		goto done;
	}
	msg = xasprintf("Update acknowledged: [state: %s]", state);
	http_respond_message(fr, req, 200, msg);
done:
	json_object_put(obj);
	free(err);
	free(msg);
}
