-- A window's own fields, in its unit's slot, written in one step (create or update).
-- KEYS: 1 wname  2 ep  3 hours (all of one unit)
-- ARGV: 1 window id  2 name ("" keeps it)
--       3 epoch: "new" (a window created now: "1") | "on" | "off" | "bump" | "" (keep)
--       4 hours: "" keeps them, "-" removes them, "=<compiled hours>" sets them
-- Returns the epoch field ("N", or "xN" while inactive); nil for an unknown window.
local wid = ARGV[1]
local ep = redis.call('HGET', KEYS[2], wid)
if ARGV[3] == 'new' then
  ep = ep or '1'
elseif not ep or redis.call('HEXISTS', KEYS[1], wid) == 0 then
  return nil
else
  local prefix, n = string.match(ep, '^(x?)(%d+)$')
  if ARGV[3] == 'on' then prefix = '' elseif ARGV[3] == 'off' then prefix = 'x'
  elseif ARGV[3] == 'bump' then n = tostring(tonumber(n) + 1) end
  ep = prefix .. n
end
if ARGV[4] == '-' then redis.call('HDEL', KEYS[3], wid)
elseif ARGV[4] ~= '' then redis.call('HSET', KEYS[3], wid, string.sub(ARGV[4], 2)) end
redis.call('HSET', KEYS[2], wid, ep)
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], wid, ARGV[2]) end
return ep
