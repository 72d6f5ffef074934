-- Change the level of a recorded tap, atomically: only its own rater, only while fresh, only a
-- counted tap (its count moves from the old level to the new, on the tap's own day, so it is
-- still counted once) or a held one still in the review queue (its queued level changes).
-- A counted tap that moves into the 差评 levels opens its case, one that leaves them voids it
-- (cases.lua).
-- KEYS: 1 log  2 tot  3 day:<D>  4 days  5 snap  6 dd:<D>  7 hq  8 hd  9 cs  10 cq  11 ca  12 cv  13 ver
--       14 rd (record.lua's 'returning' list)
--       (D: the tap's day)
-- ARGV: 1 tap stream id  2 rater hash  3 new level  4 now (ms)  5 change window (ms)  6 D
--       7 highest level that opens a case  8 its verify deadline  9 its rectify deadline (ms)
-- Returns {status, level now, tap time (ms)}; status: changed | unchanged | unknown |
-- forbidden | closed | not_changeable
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])[1]
if not entry then return {'unknown', '', ''} end
local f = {}
for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
if f.k ~= 'tap' or f.d ~= ARGV[6] then return {'unknown', '', ''} end
if f.r ~= ARGV[2] then return {'forbidden', '', ''} end
local current = 'l:' .. ARGV[1]
local level = redis.call('HGET', KEYS[6], current) or f.l
if f.s == 'duplicate' then return {'not_changeable', level, f.t} end
local window = tonumber(ARGV[5])
if window <= 0 or tonumber(ARGV[4]) - tonumber(f.t) > window then return {'closed', level, f.t} end
if redis.call('HEXISTS', KEYS[8], ARGV[1]) == 1 then return {'not_changeable', level, f.t} end
if redis.call('HEXISTS', KEYS[6], 'x:' .. ARGV[1]) == 1 then return {'not_changeable', level, f.t} end  -- appeal upheld
if ARGV[3] == level then return {'unchanged', level, f.t} end

local state = 'held'
local held = redis.call('HGET', KEYS[7], ARGV[1])
if held then  -- queued for review (held when tapped, or a counted tap held since)
  local win, rest = string.match(held, '^([^|]*)|[^|]*|(.*)$')
  redis.call('HSET', KEYS[7], ARGV[1], win .. '|' .. ARGV[3] .. '|' .. rest)
elseif f.s == 'counted' then
  state = 'counted'
  add_count(KEYS[2], KEYS[3], KEYS[4], KEYS[5], f.d, f.w, level, -1, KEYS[13], f.ch)
  add_count(KEYS[2], KEYS[3], KEYS[4], KEYS[5], f.d, f.w, ARGV[3], 1, KEYS[13], f.ch)
  -- The rater's counted tap of the day, which a tap on another window would hold.
  local back = redis.call('HGET', KEYS[14], f.r)  -- record.lua's 'returning' list, at its level now
  if back and string.find(back, '|' .. ARGV[1] .. '|', 1, true) then
    local out = {}
    for e in string.gmatch(back, '[^;]+') do
      local d, eid, ewin = string.match(e, '^(%d+)|([^|]*)|([^|]*)|')
      out[#out + 1] = eid == ARGV[1] and (d .. '|' .. eid .. '|' .. ewin .. '|' .. ARGV[3]) or e
    end
    redis.call('HSET', KEYS[14], f.r, table.concat(out, ';'))
  end
  for _, field in ipairs({'f:' .. f.r, 'g:' .. f.r}) do  -- (record.lua: its visit's second)
    local first = redis.call('HGET', KEYS[6], field)
    if first and string.match(first, '^([^|]*)|') == ARGV[1] then
      redis.call('HSET', KEYS[6], field, ARGV[1] .. '|' .. f.w .. '|' .. ARGV[3])
    end
  end
  local ck = {cs = KEYS[9], cq = KEYS[10], ca = KEYS[11], log = KEYS[1], cv = KEYS[12], ver = KEYS[13]}
  local max = tonumber(ARGV[7])
  local was, is = tonumber(level) <= max, tonumber(ARGV[3]) <= max
  if was and not is then case_void(ck, ARGV[1], 'change', ARGV[4], '')
  elseif is and not was then case_open(ck, ARGV[1], f.w, ARGV[3], f.t, f.d, ARGV[4], ARGV[8], ARGV[9])
  elseif is then case_level(ck, ARGV[1], ARGV[3]) end
else
  return {'not_changeable', level, f.t}
end
redis.call('XADD', KEYS[1], '*', 'k', 'change', 'of', ARGV[1], 'from', level, 'to', ARGV[3],
           't', ARGV[4], 'w', f.w, 'r', f.r, 'd', f.d, 's', state)
redis.call('HSET', KEYS[6], current, ARGV[3])
return {'changed', ARGV[3], f.t}
