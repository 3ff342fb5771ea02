-- SPDX-License-Identifier: Apache-2.0
-- wrk script of bench/submit.sh, bench/consul.sh and bench/scale.sh: POST /submit bodies, each a
-- distinct job (a tag value made of the run's name, the wrk thread and a counter, so every job id
-- differs and nothing is a 409), or GETs of wrk's URL, and a count of 200 answers apart from
-- everything else (a failing read must not count as served either).
-- Arguments (after `--`):
--     FACTFILE RUN-NAME    the submits
--     --get                the GETs
-- Prints one line at the end:
--     BENCH ok=<200s> other=<non-200s> seconds=<elapsed> p50_ms=<..> p99_ms=<..> status=<a non-200>

local threads = {}

function setup(thread)
   thread:set("tid", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   factfile = args[1] or "/nonexistent"
   run = args[2] or "run"
   ok = 0
   other = 0
   bad_status = 0
   n = 0
   get = args[1] == "--get"
   if not get then
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
   end
end

function request()
   if get then
      return wrk.format("GET")
   end
   n = n + 1
   local body = string.format(
      '{"jobName":"bench","factfilePath":"%s","factfileArgs":["--tag","bench,%s-%d-%d"]}',
      factfile, run, tid, n)
   return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
   if status == 200 then
      ok = ok + 1
   else
      other = other + 1
      bad_status = status
   end
end

function done(summary, latency, requests)
   local tok, tother, st = 0, 0, 0
   for _, t in ipairs(threads) do
      tok = tok + t:get("ok")
      tother = tother + t:get("other")
      if t:get("bad_status") ~= 0 then st = t:get("bad_status") end
   end
   -- connection errors and timeouts are not answers: count them as "other" too
   local e = summary.errors
   tother = tother + e.connect + e.read + e.write + e.timeout
   io.write(string.format("BENCH ok=%d other=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f status=%d\n",
      tok, tother, summary.duration / 1e6, latency:percentile(50) / 1000,
      latency:percentile(99) / 1000, st))
end
