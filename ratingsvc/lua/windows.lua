-- New windows of one unit, in its slot, in one step (units import): for each window, as
-- window.lua does for a new one, its epoch ("1" unless it has one), then its name.
-- KEYS: 1 wname  2 ep (both of one unit)
-- ARGV: window id, name, window id, name, ...
-- Returns how many windows it wrote.
for i = 1, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then redis.call('HSET', KEYS[2], ARGV[i], '1') end
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
return #ARGV / 2
