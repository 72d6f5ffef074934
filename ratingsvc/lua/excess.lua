-- Hold a window's counted poster taps of day D above its services done that day, when its
-- volumes come (ratingsvc.volumes): more counted taps than services (and the margin) are
-- impossible. Those from outside the hall's networks ('offsite''s mark) go first, then the
-- rest, each latest first; at most as many as are above. The counts move today
-- (hold.lua's hold_counted); D's tally by tap day ('c:<window>', counters.lua's counted_on)
-- moves with them, so the same volumes again hold no more.
-- KEYS: 1 dd:<D>  2 day:<D>  3 hq  4 hd  5 ap  6 tot  7 day:<today>  8 days  9 snap  10 ver
--       11 log  12 cs  13 cq  14 ca  15 cv  16 os
-- ARGV: 1 today (YYYYMMDD)  2 now (ms)  3 margin  4 window, then the window's counted poster
--       taps of D, latest first: stream id, level, ...
-- Returns how many taps it held
local A = ARGV
local ck = {cs = KEYS[12], cq = KEYS[13], ca = KEYS[14], log = KEYS[11], cv = KEYS[15], ver = KEYS[10]}
local hk = {hq = KEYS[3], hd = KEYS[4], ap = KEYS[5], tot = KEYS[6], day = KEYS[7], days = KEYS[8],
            snap = KEYS[9], ver = KEYS[10], log = KEYS[11], ck = ck, os = KEYS[16]}
local services = redis.call('HGET', KEYS[2], 'w' .. A[4] .. ':vol')
if not services or (tonumber(A[3]) or 0) <= 0 then return 0 end
local over = tonumber(redis.call('HGET', KEYS[1], 'c:' .. A[4]) or '0') - tonumber(services) - tonumber(A[3])
local held = 0
for pass = 1, 2 do
  for i = 5, #A - 1, 2 do
    if held >= over then break end
    local outside = redis.call('HEXISTS', KEYS[1], 's:' .. A[i]) == 1
    if (pass == 1) == outside and hold_counted(hk, A[1], A[2], A[i], A[4], A[i + 1], 'volume', KEYS[1]) then
      held = held + 1
    end
  end
end
return held
