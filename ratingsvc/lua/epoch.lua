-- A window's epoch, "N" while active and "xN" while inactive, edited in one step.
-- KEYS[1] unit ep hash; ARGV[1] window id; ARGV[2] "on" | "off" | "bump"
local ep = redis.call('HGET', KEYS[1], ARGV[1])
if not ep then return nil end
local prefix, n = string.match(ep, '^(x?)(%d+)$')
if ARGV[2] == 'on' then prefix = '' elseif ARGV[2] == 'off' then prefix = 'x'
elseif ARGV[2] == 'bump' then n = tostring(tonumber(n) + 1) end
ep = prefix .. n
redis.call('HSET', KEYS[1], ARGV[1], ep)
return ep
