-- Appeals (申诉复核): a unit asks that a counted tap be taken out; the office upholds (the tap
-- leaves the counts of the day it is counted on, and its case, if any, is voided) or rejects.
-- One appeal per tap. Appeals live in ap (tap id -> JSON), pending ones in apq (by filing time).
-- KEYS: 1 ap  2 apq  3 log  4 hq  5 hd  6 dd:<D>  7 tot  8 day:<C>  9 days  10 snap
--       11 cs  12 cq  13 ca  14 cv  15 ver    (D: the tap's day; C: the day it is counted on, D or its release)
-- ARGV: 1 tap stream id  2 file | uphold | reject  3 now (ms)  4 by  5 what was said (JSON list
--       [[name, value], ...])  6 D  7 C  8 file: the last moment to appeal (ms)
--       9 how long after a tap its rater may change its level (ms)
--       10 the day of its release, for a release decided before decisions kept their day
-- An upheld tap is out for good: no later hold (record.lua), level change (change.lua) or
-- release (review.lua) counts it again.
-- Returns {done | unknown | exists | decided | not_counted | late | moved, state or C}
local id, mode, now, by = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local e = redis.call('XRANGE', KEYS[3], id, id)[1]
if not e then return {'unknown', ''} end
local f = {}
for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end
if f.k ~= 'tap' or f.d ~= ARGV[6] then return {'unknown', ''} end

-- Counted now? Counted when tapped and not held since, or released after review; not taken out.
local counted, cday = f.s == 'counted', f.d
if redis.call('HEXISTS', KEYS[4], id) == 1 then counted = false end
local dec = redis.call('HGET', KEYS[5], id)
if dec then
  dec = cjson.decode(dec)
  counted, cday = dec.action == 'release', dec.day or ARGV[10]
end
local raw = redis.call('HGET', KEYS[1], id)
local a = raw and cjson.decode(raw)
if a and a.s == 'upheld' then counted = false end
-- Its level now: as changed by its rater (dd while it lasts, else the log), else as tapped.
local level = redis.call('HGET', KEYS[6], 'l:' .. id)
if not level then
  level = f.l
  local last = tonumber(f.t) + tonumber(ARGV[9])
  for _, x in ipairs(redis.call('XRANGE', KEYS[3], '(' .. id, last .. '-18446744073709551615')) do
    local g = {}
    for i = 1, #x[2], 2 do g[x[2][i]] = x[2][i + 1] end
    if g.k == 'change' and g.of == id then level = g.to end
  end
end

local said = cjson.decode(ARGV[5])
local extra = {}
for _, kv in ipairs(said) do extra[#extra + 1] = kv[1]; extra[#extra + 1] = tostring(kv[2]) end
local function log(action, counted_day)
  redis.call('INCR', KEYS[14])
  redis.call('INCR', KEYS[15])
  local args = {'k', 'appeal', 'of', id, 'a', action, 'by', by, 't', now, 'd', f.d, 'w', f.w, 'l', level}
  if counted_day then args[#args + 1] = 'cd'; args[#args + 1] = counted_day end
  for _, v in ipairs(extra) do args[#args + 1] = v end
  redis.call('XADD', KEYS[3], '*', unpack(args))
end
local ck = {cs = KEYS[11], cq = KEYS[12], ca = KEYS[13], log = KEYS[3], cv = KEYS[14], ver = KEYS[15]}
local function mark_case(state)
  local c = redis.call('HGET', ck.cs, id)
  if c then
    c = cjson.decode(c)
    c.ap = state
    redis.call('HSET', ck.cs, id, cjson.encode(c))
  end
end

if mode == 'file' then
  if a then return {'exists', a.s} end
  if not counted then return {'not_counted', ''} end
  if tonumber(now) > tonumber(ARGV[8]) then return {'late', ''} end
  a = {s = 'pending', w = tonumber(f.w), l = tonumber(level), t = tonumber(f.t), d = f.d,
       ft = tonumber(now), by = by}
  for _, kv in ipairs(said) do a[kv[1]] = kv[2] end
  redis.call('HSET', KEYS[1], id, cjson.encode(a))
  redis.call('ZADD', KEYS[2], now, id)
  log('file')
  mark_case('pending')
  return {'done', 'pending'}
end

if not a then return {'unknown', ''} end
if a.s ~= 'pending' then return {'decided', a.s} end
if mode == 'uphold' then
  if counted then
    if cday ~= ARGV[7] then return {'moved', cday} end
    add_count(KEYS[7], KEYS[8], KEYS[9], KEYS[10], cday, f.w, level, -1, KEYS[15], f.ch)
    counted_on(KEYS[6], f.w, -1)
  end
  -- Out for good: not the rater's counted tap of the day any more (a tap on another window
  -- would hold it), and not changeable (change.lua; the day's hash outlives the change window).
  for _, field in ipairs({'f:' .. f.r, 'g:' .. f.r}) do
    local first = redis.call('HGET', KEYS[6], field)
    if first and string.match(first, '^([^|]*)|') == id then redis.call('HDEL', KEYS[6], field) end
  end
  if redis.call('EXISTS', KEYS[6]) == 1 then redis.call('HSET', KEYS[6], 'x:' .. id, '1') end
  a.s, a.out = 'upheld', counted and 1 or 0
else
  a.s = 'rejected'
end
a.dt, a.dby = tonumber(now), by
for _, kv in ipairs(said) do a[kv[1]] = kv[2] end
redis.call('HSET', KEYS[1], id, cjson.encode(a))
redis.call('ZREM', KEYS[2], id)
log(mode, a.out == 1 and cday or nil)  -- the feed carries a tap taken out, on its counted day
if mode == 'uphold' then case_void(ck, id, 'appeal', now, by) end
mark_case(a.s)
return {'done', a.s}
