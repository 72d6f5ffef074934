-- Decide a held tap: release (counted from today on) or reject (kept out, and counted as
-- rejected 'x' from today on). Either way it leaves the pending count 'h' today. The tap is
-- never deleted: the decision is appended to the unit's log and kept in the decided hash.
-- A released 差评 opens its case (cases.lua), with deadlines from now.
-- A tap whose appeal was upheld (held since) is not released: it stays out.
-- KEYS: 1 hq  2 hd  3 tot  4 day:<today>  5 days  6 snap  7 log  8 cs  9 cq  10 ca  11 ap  12 cv  13 ver
--       14 dd:<D> (D: the tap's day; a release counts in its tally by tap day, counters.lua)
-- ARGV: 1 tap id  2 release|reject  3 key id  4 key name  5 why  6 now (ms)  7 today
--       8 highest level that opens a case  9 its verify deadline  10 its rectify deadline (ms)
-- Returns {done | unknown | decided | appealed, decision id}
local held = redis.call('HGET', KEYS[1], ARGV[1])
if not held then
  if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return {'decided', ''} end
  return {'unknown', ''}
end
local window, level = string.match(held, '^([^|]*)|([^|]*)|')
if ARGV[2] == 'release' then
  local appeal = redis.call('HGET', KEYS[11], ARGV[1])
  if appeal and cjson.decode(appeal).s == 'upheld' then return {'appealed', ''} end
end
local entry, ch = redis.call('XRANGE', KEYS[7], ARGV[1], ARGV[1])[1], nil  -- the tap's channel
for i = 1, entry and #entry[2] or 0, 2 do if entry[2][i] == 'ch' then ch = entry[2][i + 1] end end
add_count(KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[7], window, 'h', -1, KEYS[13], ch)
add_count(KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[7], window, ARGV[2] == 'release' and level or 'x', 1, KEYS[13], ch)
if ARGV[2] == 'release' then counted_on(KEYS[14], window, 1) end
local id = redis.call('XADD', KEYS[7], '*', 'k', 'review', 'of', ARGV[1], 'a', ARGV[2],
                      'by', ARGV[3], 'name', ARGV[4], 'why', ARGV[5], 't', ARGV[6])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode({
  action = ARGV[2], by = ARGV[3], name = ARGV[4], why = ARGV[5], t = tonumber(ARGV[6]),
  decision = id, held = held, day = ARGV[7]}))
if ARGV[2] == 'release' and tonumber(level) <= tonumber(ARGV[8]) then
  local tap = redis.call('XRANGE', KEYS[7], ARGV[1], ARGV[1])[1]
  local f = {}
  for i = 1, tap and #tap[2] or 0, 2 do f[tap[2][i]] = tap[2][i + 1] end
  if f.k == 'tap' then
    case_open({cs = KEYS[8], cq = KEYS[9], ca = KEYS[10], log = KEYS[7], cv = KEYS[12], ver = KEYS[13]}, ARGV[1], window, level,
              f.t, f.d, ARGV[6], ARGV[9], ARGV[10])
  end
end
return {'done', id}
