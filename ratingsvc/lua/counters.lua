-- Shared by the scripts that change counts (prepended, after fields.lua, by
-- ratingsvc.store.load_script).
-- A unit's counts (fields.lua: per level '1'..'5', held 'h' pending review, rejected 'x', the
-- services done 'vol', and per channel) are kept all time (tot), per day (day:<D>), and as
-- start-of-day snapshots (snap, with the days that have one in days), so that any period's
-- counts are two snapshot lookups.

-- Add delta to field for day (YYYYMMDD), for the unit and for one of its windows, and, for a
-- tap of a channel ch other than the poster ('p' or nil), to the channel's own field; move
-- the unit's version ver (rkeys.UnitKeys.version: what a kept score table checks).
local function add_count(tot, daykey, days, snap, day, window, field, delta, ver, ch)
  if not redis.call('ZSCORE', days, day) then
    -- The day's snapshot: from the next later one (a worker's clock behind at midnight), or
    -- from the totals.
    local later = redis.call('ZRANGEBYSCORE', days, '(' .. day, '+inf', 'LIMIT', 0, 1)[1]
    local from
    if later then
      local names = {}
      for i, f in ipairs(SNAP_FIELDS) do names[i] = later .. ':' .. f end
      from = redis.call('HMGET', snap, unpack(names))
    else
      from = redis.call('HMGET', tot, unpack(SNAP_FIELDS))
    end
    local pairs_ = {}
    for i, f in ipairs(SNAP_FIELDS) do
      pairs_[#pairs_ + 1] = day .. ':' .. f
      pairs_[#pairs_ + 1] = from[i] or '0'
    end
    redis.call('HSET', snap, unpack(pairs_))
    redis.call('ZADD', days, day, day)
  end
  local fields = {field}
  if ch and ch ~= '' and ch ~= 'p' then fields[2] = ch .. ':' .. field end
  if fields[2] or field == 'vol' then
    redis.call('HSET', tot, 'ext', '1')  -- the unit has counts beyond COUNT_FIELDS (period.lua)
  end
  local laters = redis.call('ZRANGEBYSCORE', days, '(' .. day, '+inf')
  for _, f in ipairs(fields) do
    for _, later in ipairs(laters) do
      redis.call('HINCRBY', snap, later .. ':' .. f, delta)
    end
    local wfield = 'w' .. window .. ':' .. f
    redis.call('HINCRBY', tot, f, delta)
    redis.call('HINCRBY', tot, wfield, delta)
    redis.call('HINCRBY', daykey, f, delta)
    redis.call('HINCRBY', daykey, wfield, delta)
  end
  redis.call('INCR', ver)
end

-- A window's counted taps of one day by the day they were tapped on (the day's dedupe hash,
-- 'c:<window>'): what its services done that day bound ('volume'; record.lua, excess.lua). The
-- day hash's counts (add_count) are by the day they were booked on: a hold or a release of an
-- earlier day's tap moves today's. Only while the day's dedupe hash lasts (never made anew
-- without its lifetime).
local function counted_on(dd, window, delta)
  if redis.call('EXISTS', dd) == 1 then redis.call('HINCRBY', dd, 'c:' .. window, delta) end
end
