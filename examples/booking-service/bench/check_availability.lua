-- wrk script: check_availability with a fresh call id per request (so the
-- per-call limits never trigger), for a date/time the demo has blocked
-- (answer: unavailable + three alternatives).
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"call":{"call_id":"call_load_%d_%d"},"name":"check_availability","args":{"datum":"%s","uhrzeit":"10 Uhr","dienstleistung":"Beratung"}}',
    tid or 0, counter, os.getenv("BENCH_DATE") or "01.12.2026")
  return wrk.format("POST", "/api/retell/function", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT req_per_s=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
