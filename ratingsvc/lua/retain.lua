-- Prune one unit of what a closed (and verified) period alone needed (ratingsvc.retention).
-- Idempotent: a re-run after an interruption finds nothing more to do for a unit done.
-- KEYS: 1 days  2 snap  3 log  4 det  5.. the day keys of the days pruned (day:, hr:, fl:, dd:)
-- ARGV: 1 log cut (XTRIM MINID; "" keeps the log)  2 number of days D  3.. the days pruned
--       (YYYYMMDD), then the number of boundaries B and the boundaries (YYYYMMDD: first day and
--       day after the last of each period still kept), then the tap ids whose reasons go (det)
-- A boundary's anchor (the first day of days at or after it) keeps its days entry and its
-- snapshot: period.lua reads a period's counts from those (counters.lua).
-- Returns {days removed from the index, keys deleted, log entries trimmed, reasons dropped}
local n = tonumber(ARGV[2])
local b = tonumber(ARGV[3 + n])
local anchors = {}
for i = 4 + n, 3 + n + b do
  local d = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[i], '+inf', 'LIMIT', 0, 1)[1]
  if d then anchors[d] = true end
end
local removed = 0
for i = 3, 2 + n do
  local day = ARGV[i]
  if not anchors[day] then
    removed = removed + redis.call('ZREM', KEYS[1], day)
    local fields = {}
    for j, f in ipairs(SNAP_FIELDS) do fields[j] = day .. ':' .. f end
    redis.call('HDEL', KEYS[2], unpack(fields))
  end
end
local deleted = 0
for i = 5, #KEYS do deleted = deleted + redis.call('DEL', KEYS[i]) end
local trimmed = 0
if ARGV[1] ~= '' then trimmed = redis.call('XTRIM', KEYS[3], 'MINID', ARGV[1]) end
local dropped, batch = 0, {}
for i = 4 + n + b, #ARGV do
  batch[#batch + 1] = ARGV[i]
  if #batch == 500 or i == #ARGV then
    dropped = dropped + redis.call('HDEL', KEYS[4], unpack(batch))
    batch = {}
  end
end
return {removed, deleted, trimmed, dropped}
