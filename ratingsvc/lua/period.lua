-- One unit's counted taps per level, its pending (held) and rejected taps for the days
-- [first, after), with its registry record. Counts are differences of start-of-day snapshots
-- (see counters.lua); a snapshot made before 'x' existed reads it as 0.
-- KEYS: 1 info  2 tot  3 days  4 snap ; ARGV: 1 first day  2 day after the last (YYYYMMDD)
-- Returns {name, category, active, c1, c2, c3, c4, c5, pending, rejected, then the totals
-- t1..t5, th, tx these counts were computed from (scoring.CountsCache checks them)}
local F = {'1', '2', '3', '4', '5', 'h', 'x'}
local tot = redis.call('HMGET', KEYS[2], unpack(F))
local function before(day)
  local d = redis.call('ZRANGEBYSCORE', KEYS[3], day, '+inf', 'LIMIT', 0, 1)[1]
  if d then
    local fields = {}
    for i, f in ipairs(F) do fields[i] = d .. ':' .. f end
    return redis.call('HMGET', KEYS[4], unpack(fields))
  end
  return tot
end
local a, b = before(ARGV[1]), before(ARGV[2])
local info = redis.call('HMGET', KEYS[1], 'name', 'category', 'active')
local out = {info[1] or '', info[2] or '', info[3] or '0'}
for i = 1, #F do out[#out + 1] = (tonumber(b[i]) or 0) - (tonumber(a[i]) or 0) end
for i = 1, #F do out[#out + 1] = tot[i] or '' end
return out
