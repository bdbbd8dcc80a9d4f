-- wrk script for scripts/fault_test.py: a steady load of a realistic mix of
-- requests, counting what the clients got.
--
--   wrk -t2 -c8 -d60s -s scripts/fault_test.lua https://127.0.0.1:8443 -- requests.txt 2 100
--
-- Arguments after "--": the request list, the number of threads, and the pause
-- in milliseconds each connection makes between an answer and its next request
-- (the load's rate: connections × 1000 / pause, at most). Each line of the list
-- is "GET <path>" or "POST <path> <urlencoded form body>"; each thread starts
-- at its own offset. On SIGINT or at the end, done() prints one line starting
-- with "FAULT_JSON ": the totals, latencies in microseconds, the answers by
-- status, 503s without Retry-After, and the failed answers per second of the
-- clock (os.time), so a failure can be placed against the faults.

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

local requests = {}
local position = 1
local pause = 0
statuses = {}
failed_at = {}
no_retry_after = 0

function init(args)
  for line in io.lines(args[1]) do
    local method, path, body = line:match("^(%u+) (%S+) ?(.*)$")
    if method == "POST" then
      requests[#requests + 1] = wrk.format("POST", path, {
        ["Content-Type"] = "application/x-www-form-urlencoded",
      }, body)
    elseif method then
      -- Built once: formatting per request costs wrk CPU the servers need.
      requests[#requests + 1] = wrk.format("GET", path)
    end
  end
  if #requests == 0 then
    error("no requests in " .. args[1])
  end
  local count = tonumber(args[2]) or 1
  pause = tonumber(args[3]) or 0
  position = math.floor(#requests * thread_id / count) % #requests + 1
end

function request()
  local r = requests[position]
  position = position % #requests + 1
  return r
end

function delay()
  return pause
end

function response(status, headers, _)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status >= 400 then
    local second = tostring(os.time())
    failed_at[second] = (failed_at[second] or 0) + 1
    if status == 503 and not (headers["Retry-After"] or headers["retry-after"]) then
      no_retry_after = no_retry_after + 1
    end
  end
end

local function merge(into, from)
  for k, v in pairs(from or {}) do
    into[k] = (into[k] or 0) + v
  end
end

local function json_object(t)
  local parts = {}
  for k, v in pairs(t) do
    parts[#parts + 1] = string.format('"%s": %d', k, v)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, _)
  local all_statuses, all_failed, missing = {}, {}, 0
  for _, thread in ipairs(threads) do
    merge(all_statuses, thread:get("statuses"))
    merge(all_failed, thread:get("failed_at"))
    missing = missing + (thread:get("no_retry_after") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'FAULT_JSON {"duration_us": %d, "requests": %d, "bytes": %d, '
      .. '"errors": {"status": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}, '
      .. '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}, '
      .. '"statuses": %s, "failed_at": %s, "503_without_retry_after": %d}\n',
    summary.duration, summary.requests, summary.bytes,
    e.status, e.connect, e.read, e.write, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max,
    json_object(all_statuses), json_object(all_failed), missing
  ))
end
