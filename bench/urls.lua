-- wrk script for bench/http_load.py: every request takes the next path from a list
-- (a file with one path per line), so a run visits many different agencies,
-- numbers and queries instead of hammering one URL.
--
--   wrk -t2 -c10 -d10s -s bench/urls.lua http://127.0.0.1:8766 -- paths.txt 2
--
-- Arguments after "--": the path list and the number of threads. Each thread
-- starts at its own offset in the list. done() prints one line starting with
-- "BENCH_JSON " that bench/http_load.py reads (latencies in microseconds).

local thread_count = 0

function setup(thread)
  thread:set("thread_id", thread_count)
  thread_count = thread_count + 1
end

local requests = {}
local position = 1

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      -- Built once here: wrk.format per request would cost wrk CPU that the
      -- server, on the same machine, needs.
      requests[#requests + 1] = wrk.format("GET", line)
    end
  end
  if #requests == 0 then
    error("no paths in " .. args[1])
  end
  local threads = tonumber(args[2]) or 1
  position = math.floor(#requests * thread_id / threads) % #requests + 1
end

function request()
  local r = requests[position]
  position = position % #requests + 1
  return r
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us": %d, "requests": %d, "bytes": %d, '
      .. '"errors": {"status": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}, '
      .. '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.status, e.connect, e.read, e.write, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max
  ))
end
