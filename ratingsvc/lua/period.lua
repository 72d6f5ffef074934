-- Units' counted taps per level, pending (held) and rejected taps for the days [first,
-- after), with their registry records, for many units in one call (all on one node: a
-- cluster's call declares allow-cross-slot-keys). Counts are differences of start-of-day
-- snapshots (see counters.lua); a snapshot made before 'x' existed reads it as 0. Reads only.
-- KEYS: 1 the first unit's record (where the call goes)
-- ARGV: 1 first day  2 day after the last (YYYYMMDD), then each unit's key prefix
-- ("rs:{u.<id>}:"): its info, tot, days, snap, ver and cv
-- Returns a JSON array with a row per unit: {name, category, active, c1, c2, c3, c4, c5,
-- pending, rejected, the unit's version these were read at ("" where absent: scoring.CountsCache
-- checks it against state.lua's), its case version (false where absent), the services done
-- (volumes), and the counts of the channels other than the poster (fields.lua: for 't', 'k',
-- 'm' in turn c1..c5, pending; false where all are 0)}
local CH = #COUNT_FIELDS + 1  -- 'vol', then each channel's COUNT_FIELDS
local out = {}
for k = 3, #ARGV do
  local p = ARGV[k]
  -- all of SNAP_FIELDS only for a unit that ever had a volume or a tap of another channel
  -- than the poster (counters.lua marks its totals 'ext'): most units have neither
  local ext = redis.call('HGET', p .. 'tot', 'ext')
  local F = ext and SNAP_FIELDS or COUNT_FIELDS
  local tot  -- read only if a day has no later snapshot (the totals are then its counts)
  local function before(day)
    local d = redis.call('ZRANGEBYSCORE', p .. 'days', day, '+inf', 'LIMIT', 0, 1)[1]
    if d then
      local fields = {}
      for i, f in ipairs(F) do fields[i] = d .. ':' .. f end
      return redis.call('HMGET', p .. 'snap', unpack(fields))
    end
    tot = tot or redis.call('HMGET', p .. 'tot', unpack(F))
    return tot
  end
  local a, b = before(ARGV[1]), before(ARGV[2])
  local info = redis.call('HMGET', p .. 'info', 'name', 'category', 'active')
  local row = {info[1], info[2], info[3]}
  for i = 1, #COUNT_FIELDS do row[#row + 1] = (tonumber(b[i]) or 0) - (tonumber(a[i]) or 0) end
  row[#row + 1] = redis.call('GET', p .. 'ver') or ''
  row[#row + 1] = redis.call('GET', p .. 'cv')
  if ext then
    local channels, any = {}, false
    for c = 0, #CHANNEL_CODES - 1 do
      for i = CH + 1 + c * #COUNT_FIELDS, CH + 6 + c * #COUNT_FIELDS do  -- levels and pending
        local v = (tonumber(b[i]) or 0) - (tonumber(a[i]) or 0)
        channels[#channels + 1] = v
        any = any or v ~= 0
      end
    end
    row[#row + 1] = (tonumber(b[CH]) or 0) - (tonumber(a[CH]) or 0)
    row[#row + 1] = any and channels or false
  else
    row[#row + 1] = 0
    row[#row + 1] = false
  end
  out[#out + 1] = row
end
return cjson.encode(out)
