/* SPDX-License-Identifier: Apache-2.0 */
/* GET /stats: succeeded and failed jobs of this node per minute (the last 60) or per hour (the
 * last 48), from the spool's outcome ring. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "spoolstats.h"

void route_stats(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	const char *bucket = http_query_get(req, "bucket");
	struct statring_slot win[STATRING_SLOTS_MAX];
	struct json_object *o, *arr, *e;
	char start[CLOCK_UTC_LEN], *err = NULL, *msg;
	int hour, slots, i;

	if (bucket == NULL || *bucket == '\0')
		bucket = "minute";
	if (strcmp(bucket, "minute") != 0 && strcmp(bucket, "hour") != 0) {
		msg = xasprintf("Error: invalid bucket '%s', must be one of (minute|hour)", bucket);
		http_respond_message(fr, req, 400, msg);
		free(msg);
		return;
	}
	hour = strcmp(bucket, "hour") == 0;
	slots = hour ? STATRING_HOUR_SLOTS : STATRING_MINUTE_SLOTS;
	if (spoolstats_window(app->sp, hour ? STATRING_HOUR_MS : STATRING_MINUTE_MS, slots,
			      clock_real_ms(), win, &err) != 0) {
		route_spool_failed(fr, req, err);
		free(err);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "bucket", json_object_new_string(bucket));
	arr = json_object_new_array();
	for (i = 0; i < slots; i++) {
		e = json_object_new_object();
		clock_format_utc(win[i].start_ms < 0 ? 0 : win[i].start_ms, CLOCK_UTC_ISO_MS,
				 start);
		json_object_object_add(e, "start", json_object_new_string(start));
		json_object_object_add(e, "succeeded", json_object_new_int64(win[i].succeeded));
		json_object_object_add(e, "failed", json_object_new_int64(win[i].failed));
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "buckets", arr);
	http_respond_json(fr, req, 200, o, NULL);
}
