-- wrk script for the benchmarks (bench/run.sh): POSTs one JSON body, adds headers, and ends
-- with one machine-readable line.
--   BENCH_BODY     the request body (JSON)
--   BENCH_HEADERS  extra headers, "Name: value" separated by "|"
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or
    '{"model":"bench","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}'
wrk.headers["Content-Type"] = "application/json"

local extra = os.getenv("BENCH_HEADERS")
if extra then
    for pair in string.gmatch(extra, "[^|]+") do
        local name, value = pair:match("^%s*([^:]+):%s*(.-)%s*$")
        if name then
            wrk.headers[name] = value
        end
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,' ..
        '"err_write":%d,"err_status":%d,"err_timeout":%d,"lat_p50_us":%d,"lat_p99_us":%d,' ..
        '"lat_max_us":%d}\n',
        summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
        e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
