-- One unit's counted taps per level for the days [first, after), with its registry record.
-- Counts are differences of start-of-day snapshots, so any period costs the same.
-- KEYS: 1 info  2 tot  3 days  4 snap ; ARGV: 1 first day  2 day after the last (YYYYMMDD)
-- Returns {name, category, active, c1, c2, c3, c4, c5}
local function before(day)
  local d = redis.call('ZRANGEBYSCORE', KEYS[3], day, '+inf', 'LIMIT', 0, 1)[1]
  if d then
    return redis.call('HMGET', KEYS[4], d .. ':1', d .. ':2', d .. ':3', d .. ':4', d .. ':5')
  end
  return redis.call('HMGET', KEYS[2], '1', '2', '3', '4', '5')
end
local a, b = before(ARGV[1]), before(ARGV[2])
local info = redis.call('HMGET', KEYS[1], 'name', 'category', 'active')
local out = {info[1] or '', info[2] or '', info[3] or '0'}
for l = 1, 5 do out[#out + 1] = (tonumber(b[l]) or 0) - (tonumber(a[l]) or 0) end
return out
