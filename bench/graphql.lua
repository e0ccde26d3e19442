-- wrk script for bench/run.sh: POSTs one GraphQL request over and over.
-- BENCH_BODY_FILE holds the JSON body; BENCH_AUTH, when set, is sent as the
-- Authorization header (e.g. "Bearer <token>").
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end
