-- Units' counted taps per level, pending (held) and rejected taps for the days [first,
-- after), with their registry records, for many units in one call (all on one node: a
-- cluster's call declares allow-cross-slot-keys). Counts are differences of start-of-day
-- snapshots (see counters.lua); a snapshot made before 'x' existed reads it as 0. Reads only.
-- KEYS: 1 the first unit's record (where the call goes)
-- ARGV: 1 first day  2 day after the last (YYYYMMDD), then each unit's key prefix
-- ("rs:{u.<id>}:"): its info, tot, days, snap and cv
-- Returns a JSON array with a row per unit: {name, category, active (as state.lua), c1, c2, c3, c4, c5,
-- pending, rejected, then the totals t1..t5, th, tx these counts were computed from, and the
-- case version (false where absent: scoring.CountsCache checks them against state.lua's)}
local F = {'1', '2', '3', '4', '5', 'h', 'x'}
local out = {}
for k = 3, #ARGV do
  local p = ARGV[k]
  local tot = redis.call('HMGET', p .. 'tot', unpack(F))
  local function before(day)
    local d = redis.call('ZRANGEBYSCORE', p .. 'days', day, '+inf', 'LIMIT', 0, 1)[1]
    if d then
      local fields = {}
      for i, f in ipairs(F) do fields[i] = d .. ':' .. f end
      return redis.call('HMGET', p .. 'snap', unpack(fields))
    end
    return tot
  end
  local a, b = before(ARGV[1]), before(ARGV[2])
  local info = redis.call('HMGET', p .. 'info', 'name', 'category', 'active')
  local row = {info[1], info[2], info[3]}
  for i = 1, #F do row[#row + 1] = (tonumber(b[i]) or 0) - (tonumber(a[i]) or 0) end
  for i = 1, #F do row[#row + 1] = tot[i] end
  row[#row + 1] = redis.call('GET', p .. 'cv')
  out[#out + 1] = row
end
return cjson.encode(out)
