-- wrk script for bench/web.py: POST request bodies read from a file, one per line, or GETs.
--   wrk -t THREADS -s bench/wrk/load.lua URL -- BODIES|- THREADS DELAY_MS [HEADER: VALUE]...
-- Each thread takes every THREADS-th line, so no two send the same body, and wraps
-- around when its share runs out (the caller makes enough). Every request carries its own
-- X-Forwarded-For, as nginx would for as many phones. DELAY_MS > 0 paces each connection.
-- done() prints one JSON line: requests, duration, latency percentiles and status counts.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  -- args: BODIES|- THREADS DELAY_MS [HEADER: VALUE]...
  local threads = tonumber(args[2])
  _bodies, _n, _next = {}, 0, 0
  if args[1] == "-" then
    _method, _n = "GET", 1
  else
    _method = "POST"
    local i = 0
    for line in io.lines(args[1]) do
      if i % threads == id then
        _n = _n + 1
        _bodies[_n] = line
      end
      i = i + 1
    end
  end
  _delay = tonumber(args[3])
  _headers = {}
  if args[1] ~= "-" then _headers["Content-Type"] = "application/json" end
  for k = 4, #args do
    local name, value = args[k]:match("^([^:]+):%s*(.*)$")
    _headers[name] = value
  end
  statuses = {}
end

function request()
  _next = _next + 1
  local body = _bodies[(_next - 1) % _n + 1]
  _headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", id, math.floor(_next / 256) % 256, _next % 256)
  return wrk.format(_method, nil, _headers, body)
end

function delay()
  return _delay
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for status, n in pairs(s) do counts[tostring(status)] = (counts[tostring(status)] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(counts) do table.insert(parts, string.format('"%s": %d', status, n)) end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(parts, ", ")))
end
