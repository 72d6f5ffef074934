-- Record one tap, atomically, in one unit's slot: idempotent replay, revocation check,
-- dedupe, counters (all time and per day, with the day's start-of-day snapshot) and the log.
--
-- KEYS: 1 info  2 ep  3 dd:<day>  4 tot  5 day:<day>  6 days  7 snap  8 log  9 idem
-- ARGV: 1 window  2 epoch  3 level  4 rater hash  5 day (YYYYMMDD)  6 now (ms)
--       7 ticket nonce  8 request fingerprint  9 idempotency ttl (0: no key)  10 dedupe ttl
--       11 "1" when the ticket has expired
-- Returns {status, rating stream id or "", fingerprint or "", "1" if replayed from the key};
-- status: counted | duplicate | expired | revoked
local window, epoch, level, rater, day = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local use_idem = ARGV[9] ~= '0'

if use_idem then
  local prev = redis.call('GET', KEYS[9])
  if prev then
    local status, id, fp = string.match(prev, '^([^|]*)|([^|]*)|(.*)$')
    return {status, id, fp, '1'}
  end
end
if ARGV[11] == '1' then return {'expired', '', '', '0'} end
if redis.call('HGET', KEYS[1], 'active') ~= '1' or redis.call('HGET', KEYS[2], window) ~= epoch then
  return {'revoked', '', '', '0'}
end

local field = window .. ':' .. rater
local first = redis.call('HGET', KEYS[3], field)
local status = 'counted'
if first then
  status = 'duplicate'
  redis.call('HINCRBY', KEYS[5], 'dup', 1)
else
  -- The snapshot of a day holds the counted taps before it. A day's first tap takes it from
  -- the next later snapshot (clock skew across workers at midnight) or from the totals.
  if not redis.call('ZSCORE', KEYS[6], day) then
    local later = redis.call('ZRANGEBYSCORE', KEYS[6], '(' .. day, '+inf', 'LIMIT', 0, 1)[1]
    for l = 1, 5 do
      local v
      if later then v = redis.call('HGET', KEYS[7], later .. ':' .. l)
      else v = redis.call('HGET', KEYS[4], tostring(l)) end
      redis.call('HSET', KEYS[7], day .. ':' .. l, v or '0')
    end
    redis.call('ZADD', KEYS[6], day, day)
  end
  for _, later in ipairs(redis.call('ZRANGEBYSCORE', KEYS[6], '(' .. day, '+inf')) do
    redis.call('HINCRBY', KEYS[7], later .. ':' .. level, 1)
  end
  local wfield = 'w' .. window .. ':' .. level
  redis.call('HINCRBY', KEYS[4], level, 1)
  redis.call('HINCRBY', KEYS[4], wfield, 1)
  redis.call('HINCRBY', KEYS[5], level, 1)
  redis.call('HINCRBY', KEYS[5], wfield, 1)
end

local id = redis.call('XADD', KEYS[8], '*', 'k', 'tap', 't', ARGV[6], 'w', window, 'l', level,
                      's', status, 'r', rater, 'd', day, 'n', ARGV[7], 'of', first or '')
if status == 'counted' then
  redis.call('HSET', KEYS[3], field, id)
  if redis.call('HLEN', KEYS[3]) == 1 then redis.call('EXPIRE', KEYS[3], ARGV[10]) end
end
if use_idem then
  redis.call('SET', KEYS[9], status .. '|' .. id .. '|' .. ARGV[8], 'EX', ARGV[9])
end
return {status, id, ARGV[8], '0'}
