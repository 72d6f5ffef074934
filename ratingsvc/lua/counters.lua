-- Shared by the scripts that change counts (prepended by ratingsvc.store.load_script).
-- A unit's counted taps per level '1'..'5', its held taps awaiting review 'h' (pending) and
-- its rejected taps 'x' are kept all time (tot),
-- per day (day:<D>), and as start-of-day snapshots (snap, with the days that have one in
-- days), so that any period's counts are two snapshot lookups.
local COUNT_FIELDS = {'1', '2', '3', '4', '5', 'h', 'x'}

-- Add delta to field for day (YYYYMMDD), for the unit and for one of its windows, and move
-- the unit's version ver (rkeys.UnitKeys.version: what a kept score table checks).
local function add_count(tot, daykey, days, snap, day, window, field, delta, ver)
  if not redis.call('ZSCORE', days, day) then
    -- The day's snapshot: from the next later one (a worker's clock behind at midnight), or
    -- from the totals.
    local later = redis.call('ZRANGEBYSCORE', days, '(' .. day, '+inf', 'LIMIT', 0, 1)[1]
    for _, f in ipairs(COUNT_FIELDS) do
      local v
      if later then v = redis.call('HGET', snap, later .. ':' .. f)
      else v = redis.call('HGET', tot, f) end
      redis.call('HSET', snap, day .. ':' .. f, v or '0')
    end
    redis.call('ZADD', days, day, day)
  end
  for _, later in ipairs(redis.call('ZRANGEBYSCORE', days, '(' .. day, '+inf')) do
    redis.call('HINCRBY', snap, later .. ':' .. field, delta)
  end
  local wfield = 'w' .. window .. ':' .. field
  redis.call('HINCRBY', tot, field, delta)
  redis.call('HINCRBY', tot, wfield, delta)
  redis.call('HINCRBY', daykey, field, delta)
  redis.call('HINCRBY', daykey, wfield, delta)
  redis.call('INCR', ver)
end
