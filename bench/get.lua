-- SPDX-License-Identifier: Apache-2.0
-- wrk script of bench/scale.sh: GET of the URL given to wrk, with a count of 200 answers apart
-- from everything else (a slow or failing read must not count as served).
-- Prints one line at the end:
--     BENCH ok=<200s> other=<non-200s> seconds=<elapsed> p50_ms=<..> p99_ms=<..> status=<a non-200>

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   ok = 0
   other = 0
   bad_status = 0
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
   local e = summary.errors
   tother = tother + e.connect + e.read + e.write + e.timeout
   io.write(string.format("BENCH ok=%d other=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f status=%d\n",
      tok, tother, summary.duration / 1e6, latency:percentile(50) / 1000,
      latency:percentile(99) / 1000, st))
end
