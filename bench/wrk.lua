-- Appended to the globals method, path, template, run_id, headers and cards by bench/load.py.
-- Each wrk thread numbers its requests; {ref} is unique across threads and runs.
local counter = 0
local threads = {}
local static = nil

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function request()
  if template == "" or (not template:find("{ref}", 1, true) and not template:find("{card}", 1, true)) then
    if static == nil then
      static = wrk.format(method, path, headers, template ~= "" and template or nil)
    end
    return static
  end
  counter = counter + 1
  local body = template
  if #cards > 0 then
    body = body:gsub("{card}", cards[(counter % #cards) + 1])
  end
  body = body:gsub("{ref}", run_id .. "-" .. tostring(tid) .. "-" .. counter)
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
