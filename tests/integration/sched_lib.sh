# SPDX-License-Identifier: Apache-2.0
# The schedules API's validation errors, byte for byte, shared by the single-node test
# (schedules.sh) and the Consul one (consul_schedules_api.sh): the answers are the same in both
# modes. POSIX sh, sourced after lib.sh; it only defines functions and SCHED_NAME_RULE.

SCHED_NAME_RULE='must match ^[A-Za-z0-9._-]{1,64}$'

# sched_expect_set_errors FACTFILE: every refusal of POST /schedules/set, through FS_URL, for a
# request naming the readable FACTFILE.
sched_expect_set_errors() {
	_se_ff=$1 _se_long=$(printf 'a%.0s' $(seq 65))
	fs_expect_post /schedules/set '{"name":"bad name","cron":"* * * * *","jobName":"j","factfilePath":"'"$_se_ff"'"}' \
		400 '{"message":"Error: invalid schedule name '"'bad name'"', '"$SCHED_NAME_RULE"'"}'
	fs_expect_post /schedules/set '{"name":"'"$_se_long"'","cron":"* * * * *"}' \
		400 '{"message":"Error: invalid schedule name '"'$_se_long'"', '"$SCHED_NAME_RULE"'"}'
	fs_expect_post /schedules/set '{"name":"x","jobName":"j","factfilePath":"'"$_se_ff"'"}' \
		400 '{"message":"Error decoding JSON string: missing field `cron`"}'
	fs_expect_post /schedules/set '{"name":"x","cron":"0 0 L * *","jobName":"j","factfilePath":"'"$_se_ff"'"}' \
		400 '{"message":"Error: invalid cron expression '"'0 0 L * *'"': '"'L'"' (last day) is not supported"}'
	fs_expect_post /schedules/set '{"name":"x","cron":"* * * * *","timezone":"Mars/Base","jobName":"j","factfilePath":"'"$_se_ff"'"}' \
		400 '{"message":"Error: unknown time zone '"'Mars/Base'"'"}'
	fs_expect_post /schedules/set '{"name":"x","cron":"* * * * *","overlap":"sometimes","jobName":"j","factfilePath":"'"$_se_ff"'"}' \
		400 '{"message":"Error: invalid overlap '"'sometimes'"', must be \"allow\" or \"skip\""}'
	fs_expect_post /schedules/set '{"name":"x","cron":"* * * * *","catchUp":0,"jobName":"j","factfilePath":"'"$_se_ff"'"}' \
		400 '{"message":"Error: invalid catchUp 0, must be \"none\", \"last\" or a number from 1 to 100"}'
	fs_expect_post /schedules/set '{"name":"x","cron":"* * * * *","catchUp":"all","jobName":"j","factfilePath":"'"$_se_ff"'"}' \
		400 '{"message":"Error: invalid catchUp \"all\", must be \"none\", \"last\" or a number from 1 to 100"}'
	fs_expect_post /schedules/set '{"name":"x","cron":"* * * * *","jobName":"j","factfilePath":"'"$FS_TMP"'/none"}' \
		400 '{"message":"Validation Error: Value does not exist on host for '"'factfilePath':'$FS_TMP/none'"'"}'
	fs_expect_post /schedules/set '{"name":"x","cron":"* * * * *","jobName":"j","factfilePath":"'"$_se_ff"'","factfileArgs":["--tag","slot,2026-01-01T00:00:00Z"]}' \
		400 '{"message":"Validation Error: the tag '"'slot'"' is reserved for schedules"}'
	fs_expect_post /schedules/set '[]' \
		400 '{"message":"Error decoding JSON string: invalid type: sequence, expected struct Schedule"}'
}

# sched_expect_name_errors: the refusals of pause, resume, delete and run (an unknown name, no
# name, a bad name) and of GET /schedules?name= of an unknown name, through FS_URL.
sched_expect_name_errors() {
	for _sn_route in pause resume delete run; do
		fs_expect_post /schedules/$_sn_route '{"name":"nope"}' \
			404 '{"message":"Error: no schedule '"'nope'"'"}'
		fs_expect_post /schedules/$_sn_route '{}' \
			400 '{"message":"Error decoding JSON string: missing field `name`"}'
		fs_expect_post /schedules/$_sn_route '{"name":"a b"}' \
			400 '{"message":"Error: invalid schedule name '"'a b'"', '"$SCHED_NAME_RULE"'"}'
	done
	fs_expect_get '/schedules?name=nope' 404 '{"message":"Error: no schedule '"'nope'"'"}'
}
