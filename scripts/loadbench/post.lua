-- wrk script: POST the AdmissionReview in $BODY_FILE to the path given on the wrk command line.
local path = os.getenv("BODY_FILE")
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"

-- No response() hook: defining one makes wrk run Lua per response and skews the figures.
-- summary.errors.status counts non-2xx/3xx answers.
function done(summary, latency, requests)
  io.write(string.format("non_200=%d\n", summary.errors.status))
  io.write(string.format("p50_us=%d\n", latency:percentile(50)))
  io.write(string.format("p99_us=%d\n", latency:percentile(99)))
  io.write(string.format("rps=%.0f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("requests=%d\n", summary.requests))
end
