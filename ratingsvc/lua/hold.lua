-- Hold a counted poster tap after the fact (prepended by ratingsvc.store.load_script to the
-- scripts that do: record.lua for the rater's other taps once a signal sees who they are,
-- excess.lua for a window's taps above its services). Its count moves today, as a review's
-- would. Not one held or decided already, nor one taken out by an upheld appeal. Its level is
-- the one its rater changed it to (change.lua's 'l:<id>' in the dedupe hash of its day),
-- else elevel. True if it held the tap.
-- k: hq, hd, ap, tot, day (today's counts), days, snap, ver, log, ck (cases.lua's keys), os (the
-- hall's usual share, record.lua's 'offsite'; nil: not kept);
-- today (YYYYMMDD) and now (ms); tapdd: the dedupe hash of the tap's own day where the script
-- has it (nil: a day before yesterday, whose hash is gone or no longer weighed).
local function hold_counted(k, today, now, eid, ewin, elevel, why, tapdd)
  if redis.call('HEXISTS', k.hq, eid) == 1 or redis.call('HEXISTS', k.hd, eid) == 1 then return end
  local appeal = redis.call('HGET', k.ap, eid)
  if appeal and cjson.decode(appeal).s == 'upheld' then return end
  elevel = tapdd and redis.call('HGET', tapdd, 'l:' .. eid) or elevel
  add_count(k.tot, k.day, k.days, k.snap, today, ewin, elevel, -1, k.ver, 'p')  -- a poster tap's
  add_count(k.tot, k.day, k.days, k.snap, today, ewin, 'h', 1, k.ver, 'p')
  redis.call('HSET', k.hq, eid, ewin .. '|' .. elevel .. '|' .. why .. '|' .. now)
  redis.call('XADD', k.log, '*', 'k', 'hold', 'of', eid, 'why', why, 't', now)
  case_void(k.ck, eid, 'held', now, '')
  if tapdd then
    counted_on(tapdd, ewin, -1)
    -- a counted tap from outside the hall's networks that day: 'offsite' weighs counted ones only
    local mark = redis.call('HGET', tapdd, 's:' .. eid)  -- "<side>|<day ordinal>"
    if mark then
      local side, od = string.match(mark, '^([^|]*)|?(%d*)$')
      redis.call('HDEL', tapdd, 's:' .. eid)
      redis.call('HINCRBY', tapdd, side, -1)
      -- and the hall's usual share, where the window's day gave it some from outside
      if k.os and od ~= '' and tonumber(redis.call('HGET', tapdd, 'ux:' .. ewin) or '0') > 0
          and redis.call('HEXISTS', k.os, od .. ':x') == 1 then
        redis.call('HINCRBY', tapdd, 'ux:' .. ewin, -1)
        redis.call('HINCRBY', k.os, od .. ':x', -1)
      end
    end
  end
  return true
end
