-- Set one unit's services done (volumes) on one day, per window, atomically: each window's
-- count becomes the number given (an import again replaces, never adds), through add_count
-- (counters.lua), so the totals, the day, the snapshots and the unit's version move together.
-- Each window whose count changed is logged ("vol": its window, day and services now), for
-- the change feed and the period's export.
-- KEYS: 1 tot  2 day:<D>  3 days  4 snap  5 ver  6 log
-- ARGV: 1 D (YYYYMMDD)  2 now (ms), then pairs: window id, services
-- Returns the change of the unit's services that day
local moved = 0
for i = 3, #ARGV, 2 do
  local window, services = ARGV[i], tonumber(ARGV[i + 1])
  local was = redis.call('HGET', KEYS[2], 'w' .. window .. ':vol')
  local delta = services - tonumber(was or '0')
  if not was and delta == 0 then  -- none served: known (0), not unknown (record.lua's 'volume')
    add_count(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], window, 'vol', 0, KEYS[5])
  end
  if delta ~= 0 then
    add_count(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], window, 'vol', delta, KEYS[5])
    moved = moved + delta
    redis.call('XADD', KEYS[6], '*', 'k', 'vol', 'w', window, 'd', ARGV[1], 'n', services, 't', ARGV[2])
  end
end
return moved
