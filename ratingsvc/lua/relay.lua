-- Copy units' new aggregate-changing log entries into the global change stream, once.
-- Every unit's relayed offset is compared first and all are set in the same step, so two
-- relays racing over the same entries cannot both copy them.
-- KEYS: 1 change stream  2 offsets (hash unit -> last relayed log id)
-- ARGV: 1 number of units U, then U times: unit, offset the caller read ("" for none), new
--       offset; then the entries in the order to append: unit, log id, day, kind
-- Returns how many entries were copied, or -1 if another relay got there first.
local units = tonumber(ARGV[1])
for i = 0, units - 1 do
  local at = 2 + 3 * i
  if (redis.call('HGET', KEYS[2], ARGV[at]) or '') ~= ARGV[at + 1] then return -1 end
end
local n = 0
for i = 2 + 3 * units, #ARGV, 4 do
  redis.call('XADD', KEYS[1], '*', 'u', ARGV[i], 'e', ARGV[i + 1], 'd', ARGV[i + 2], 'k', ARGV[i + 3])
  n = n + 1
end
for i = 0, units - 1 do
  local at = 2 + 3 * i
  redis.call('HSET', KEYS[2], ARGV[at], ARGV[at + 2])
end
return n
