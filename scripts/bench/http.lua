-- wrk script for scripts/bench-http. Counts answers by status and prints one
-- line the bench reads:  RESULT <requests/s> <p50 ms> <p99 ms> <2xx> <201> <409> <4xx other> <5xx> <socket errors>
--
--   wrk ... -s http.lua URL -- get
--   wrk ... -s http.lua URL -- book THREADS CLINIC TYPE PET[,PET...] FIRST_DATE VET [VET...]
--
-- `book` walks forward through free-looking slots (each vet, mornings and
-- afternoons on the 25-minute rhythm of a consultation and its buffer, Monday to
-- Saturday morning from FIRST_DATE), the threads taking turns, so most requests
-- are real bookings; every fifth request repeats the one before it (a 409), and
-- each vet's weekday off gives 409s too.

local threads = {}

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

local mode, stride, clinic, type_id, pets, first_day, vets
-- A global, so done() can read each thread's copy.
counts = { ok = 0, created = 0, conflict = 0, client = 0, server = 0 }
local n, sent, last_body = 0, 0, nil
-- Slot starts (minutes after local midnight) inside every London vet's hours.
local starts = {}
for k = 0, 7 do table.insert(starts, 9 * 60 + 25 * k) end  -- 09:00 ... 11:55
for k = 0, 6 do table.insert(starts, 14 * 60 + 25 * k) end -- 14:00 ... 16:30

function init(args)
    mode = args[1] or "get"
    if mode == "book" then
        stride = tonumber(args[2])
        clinic, type_id = args[3], args[4]
        pets = {}
        for p in args[5]:gmatch("[^,]+") do table.insert(pets, p) end
        local y, m, d = args[6]:match("(%d+)-(%d+)-(%d+)")
        first_day = os.time({ year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 12 })
        vets = {}
        for i = 7, #args do table.insert(vets, args[i]) end
        n = id -- this thread's first slot; threads interleave
    end
end

local function next_body()
    local per_day = #vets * #starts
    local day, within, start, when
    repeat
        day = math.floor(n / per_day)
        within = n % per_day
        start = starts[math.floor(within / #vets) + 1]
        when = first_day + day * 86400
        n = n + stride
        local wday = os.date("*t", when).wday -- 1 is Sunday, 7 Saturday
        -- Nobody works on Sunday, nor on Saturday afternoon.
    until wday ~= 1 and not (wday == 7 and start >= 13 * 60)
    local vet = vets[(within % #vets) + 1]
    local pet = pets[(n % #pets) + 1]
    local date = os.date("%Y-%m-%d", when)
    return string.format(
        '{"clinic_id":"%s","vet_id":"%s","pet_id":"%s","type_id":"%s","start":"%sT%02d:%02d","reason":"bench"}',
        clinic, vet, pet, type_id, date, math.floor(start / 60), start % 60)
end

function request()
    if mode ~= "book" then
        return wrk.format(nil)
    end
    sent = sent + 1
    local body
    if sent % 5 == 0 and last_body then
        body = last_body
    else
        body = next_body()
    end
    last_body = body
    -- A headers table replaces wrk.headers (the -H ones, the bearer token among
    -- them) rather than adding to them, so carry those over.
    local headers = { ["Content-Type"] = "application/json" }
    for k, v in pairs(wrk.headers) do headers[k] = v end
    return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
    if status == 201 then
        counts.created = counts.created + 1
    elseif status == 409 then
        counts.conflict = counts.conflict + 1
    elseif status >= 500 then
        counts.server = counts.server + 1
        if counts.server <= 3 then
            io.stderr:write("5xx answer: " .. status .. " " .. body .. "\n")
        end
    elseif status >= 400 then
        counts.client = counts.client + 1
        if counts.client <= 2 and status ~= 409 then
            io.stderr:write("4xx answer: " .. status .. " " .. body .. "\n")
        end
    end
    if status >= 200 and status < 300 then
        counts.ok = counts.ok + 1
    end
end

function done(summary, latency, requests)
    local t = { ok = 0, created = 0, conflict = 0, client = 0, server = 0 }
    for _, thread in ipairs(threads) do
        local c = thread:get("counts")
        for k, _ in pairs(t) do t[k] = t[k] + c[k] end
    end
    local e = summary.errors
    local seconds = summary.duration / 1e6
    io.write(string.format("RESULT %.1f %.3f %.3f %d %d %d %d %d %d\n",
        summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        t.ok, t.created, t.conflict, t.client, t.server,
        e.connect + e.read + e.write + e.timeout))
end
