-- Record one tap, atomically, in one unit's slot. In order: idempotent replay, ticket age,
-- revocation, hard limits (refused, not recorded), dedupe (recorded as duplicate), the
-- signals (recorded as held, not counted), else counted. Every recorded tap goes to the log.
--
-- KEYS: 1 info  2 ep  3 dd:<day>  4 tot  5 day:<day>  6 days  7 snap  8 log  9 idem
--       10 hours  11 rt:<bucket>  12 rt:<bucket-1>  13 hr:<day>  14 hr:<yesterday>
--       15 fl:<day> (flagged IPs)  16 hq  17 lr:<rater limit period>  18 lw:<window limit period>
--       19 cs  20 cq  21 ca  22 cv (cases, cases.lua)  23 ver (the unit's version)
--       24 the dedupe hash of the ticket's day (a visit token's: the day it was issued; else 3)
--       25 hd (decided holds)  26 ap (appeals)  27 rd:<B> (each rater's counted poster taps on
--       recent days: "<day ordinal>|<id>|<window>|<level>;...", or "<day ordinal>|R" once
--       held as 'returning', for that signal; B: this day's bucket)  28 rd:<B-1>
--       29 ha (addresses taken for the hall's own: a sorted set, address hash by day ordinal)
--       30 dd:<yesterday> (a 'returning' hold of yesterday's tap moves its 'c:<window>')
--       31 os (counted poster taps on the halls' networks and outside them, by day: 'offsite')
-- ARGV: 1 window  2 epoch  3 level  4 rater hash  5 day  6 now (ms)  7 ticket nonce
--       8 fingerprint  9 idempotency ttl (0: no key)  10 dedupe ttl  11 "1" if expired
--       12 IP hash  13 reasons found by the app (comma list)  14 weekday 1-7
--       15 minute of the day  16 hour  17 hours grace (min)  18 IP-window max
--       19 burst min  20 burst factor  21 rater windows max  22 rater limit
--       23 its seconds  24 window limit  25 its seconds  26 how long an IP stays flagged (ms)
--       27 highest level that opens a case (0: none)  28 its verify deadline  29 its rectify deadline (ms)
--       30 channel (ratingsvc.channels: p poster, t visit token, k kiosk, m SMS link)
--       31 windows one visit may rate  32 its minutes (from the rater's first tap of the day)
--       33 days on which one rater may rate the unit within 34 days before 'returning' (0: off)
--       35 today's day ordinal (days since 1 January of year 1)
--       36 "1" from the hall's own network, "0" from elsewhere (the hall has networks), "" unknown
--       37 new raters a day from one address outside the hall's networks on this unit (0: off)
--       38 new raters from outside the hall's networks on a window in a day before 'offsite'
--       can hold (0: off)  39 their share is unusual when it would come less often than once
--       in this many days at the hall's usual share (44: at least this)
--       40 windows of the unit an address must have had counted raters on today, where no hall
--       network is known, to be taken for the hall itself (0: off)  41 since how many minutes
--       42 the opening hours of a window without any (compiled; "": none)
--       43 counted taps a window may have in a day above its services done (0: off)
--       44 the least share of raters from outside the hall's networks taken as usual
-- A poster tap counts once per rater, window and day; a tap of another channel once per
-- token (its ticket nonce), whoever sends it (one service, one rating).
-- Returns {status, stream id, fingerprint, "1" if replayed, reasons or limit name, and for a
-- duplicate the level the rater's earlier tap of this window today has now};
-- status: counted | held | duplicate | expired | revoked | limited
local A = ARGV
local window, level, rater, day, now = A[1], A[3], A[4], A[5], A[6]
local ch = A[30]
local poster = ch == 'p'
local use_idem = A[9] ~= '0'
local ck = {cs = KEYS[19], cq = KEYS[20], ca = KEYS[21], log = KEYS[8], cv = KEYS[22], ver = KEYS[23]}

-- hold.lua's hold_counted, on this unit's keys
local hk = {hq = KEYS[16], hd = KEYS[25], ap = KEYS[26], tot = KEYS[4], day = KEYS[5],
            days = KEYS[6], snap = KEYS[7], ver = KEYS[23], log = KEYS[8], ck = ck, os = KEYS[31]}

if use_idem then
  local prev = redis.call('GET', KEYS[9])
  if prev then
    local status, id, fp, why = string.match(prev, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
    return {status, id, fp, '1', why}
  end
end
if A[11] == '1' then return {'expired', '', '', '0', ''} end
if redis.call('HGET', KEYS[1], 'active') ~= '1' or redis.call('HGET', KEYS[2], window) ~= A[2] then
  return {'revoked', '', '', '0', ''}
end

-- HINCRBY, giving the key a lifetime when the field is new (a key is only ever made so).
local function incr(key, field, ttl)
  local n = redis.call('HINCRBY', key, field, 1)
  if n == 1 then redis.call('EXPIRE', key, ttl) end
  return n
end

-- Hard limits, fixed windows: over them nothing is recorded.
local function over(key, field, limit, seconds)
  if tonumber(limit) <= 0 then return false end
  return incr(key, field, 2 * tonumber(seconds)) > tonumber(limit)
end
if over(KEYS[17], rater, A[22], A[23]) then return {'limited', '', '', '0', 'rater'} end
if over(KEYS[18], window, A[24], A[25]) then return {'limited', '', '', '0', 'window'} end

local function open_now(spec, weekday, minute, grace)
  local days, ranges = string.match(spec, '^([^|]*)|(.*)$')
  if not days or not string.find(days, weekday, 1, true) then return false end
  for a, b in string.gmatch(ranges, '(%d+)-(%d+)') do
    if minute >= tonumber(a) - grace and minute <= tonumber(b) + grace then return true end
  end
  return false
end

local function num(v) return tonumber(v) or 0 end
local function items(list, sep) return select(2, string.gsub(list, sep, '')) + 1 end

-- The chance that k or more of n are from outside, each with chance p (the binomial tail).
local function chance_of_more(n, k, p)
  if k <= n * p then return 1 end  -- (at least about a half; and below the mean the first term
                                   -- of the sum can be too small for a number)
  local log_c = 0
  for i = 1, k do log_c = log_c + math.log(n - k + i) - math.log(i) end
  local term = math.exp(log_c + k * math.log(p) + (n - k) * math.log(1 - p))
  local sum = 0
  for i = k, n do
    sum = sum + term
    term = term * (n - i) / (i + 1) * p / (1 - p)
    if term < sum * 1e-9 then break end
  end
  return sum
end

-- The hall's usual share of raters from outside its networks: the unit's counted poster taps
-- of the 7 days before today (os), at least least, at most 0.95.
local function usual_share(os, today, least)
  local x, o, all = 0, 0, redis.call('HGETALL', os)
  for i = 1, #all, 2 do
    local d, side = string.match(all[i], '^(%d+):(%a)$')
    if d and tonumber(d) < today and tonumber(d) >= today - 7 then
      if side == 'x' then x = x + tonumber(all[i + 1]) end
      if side == 'o' then o = o + tonumber(all[i + 1]) end
    end
  end
  return math.min(0.95, math.max(least, (x + 1) / (x + o + 2)))
end

local dd, pair, ticket = KEYS[3], window .. ':' .. rater, 't:' .. A[7]
local seen = redis.call('HMGET', dd, ticket, pair)
if not poster then seen = {redis.call('HGET', KEYS[24], ticket), nil} end
local first = seen[1] or seen[2]
local status, why, earlier = 'counted', '', ''
local here = A[36] == '1'  -- from the hall itself: its own network, or its address learned so
local seen_a  -- where no hall network is known: this address's 'a:' field today (learned so?)
if first then
  status = 'duplicate'
  redis.call('HINCRBY', KEYS[5], 'dup', 1)
  if seen[2] then  -- its level now: as changed by its rater (change.lua), else as tapped
    earlier = redis.call('HGET', dd, 'l:' .. seen[2])
    if not earlier then
      local e = redis.call('XRANGE', KEYS[8], seen[2], seen[2])[1]
      for i = 1, e and #e[2] or 0, 2 do if e[2][i] == 'l' then earlier = e[2][i + 1] end end
    end
  end
else
  local reasons = {}
  for r in string.gmatch(A[13], '[^,]+') do reasons[#reasons + 1] = r end
  -- The window's hours, else the unit's default, else (a window added without them) the unit's
  -- other windows': open when one of them is; else the setting's (no window is open all night),
  -- without the grace: it is the outer bound, not a closing time that runs over.
  local own = redis.call('HMGET', KEYS[10], window, 'u')
  local specs = (own[1] or own[2]) and {own[1] or own[2]} or redis.call('HVALS', KEYS[10])
  local grace = tonumber(A[17])
  if #specs == 0 and A[42] ~= '' then specs, grace = {A[42]}, 0 end
  local open = #specs == 0
  for _, spec in ipairs(specs) do
    open = open or open_now(spec, A[14], tonumber(A[15]), grace)
  end
  -- The hall's own network rating the unit is the hall open, whatever its hours say (周末不打烊,
  -- an evening's extra service): a tap from it is not held so, nor one from elsewhere within
  -- A[17] minutes after one (its citizens on mobile data).
  if not open and A[36] ~= '' then
    open = A[36] == '1' or num(now) - num(redis.call('HGET', dd, 'on')) <= num(A[17]) * 60000
  end
  if not open then reasons[#reasons + 1] = 'hours' end
  -- Many new raters from one IP on this window. Once seen, the address stays flagged there
  -- for a while after the last time it was seen (a bot that keeps going stays flagged); a
  -- tap held only because of the flag does not renew it (a busy hall's honest citizens after
  -- one busy spell are not held all day).
  local ipf, wf, flag = 'i' .. window .. ':' .. A[12], 'w' .. window, window .. ':' .. A[12]
  local cur, prev = redis.call('HMGET', KEYS[11], ipf, wf, 'b' .. window), redis.call('HMGET', KEYS[12], ipf, wf)
  local from_ip, recent = num(cur[1]) + num(prev[1]), num(cur[2]) + num(prev[2])
  local flagged = num(redis.call('HGET', KEYS[15], flag))
  -- Where no hall network is known, an address that has had counted raters on A[40] windows of
  -- the unit today, the first at least A[41] minutes ago, is taken for the hall itself (a busy
  -- hall behind one address; a flood's addresses are a wave of minutes, a bot's one window),
  -- and stays so for 7 days after the last day it was (the next morning's rush is the hall's).
  -- An address whose counted taps a burst swept up is not, that day ('x'). A learned address
  -- is not part of a burst, and 'ip_window' holds it only past RULE_BURST_FACTOR times its bar
  -- (a bot that warmed up on three windows is still held when it floods one).
  local learned = false
  if A[36] == '' and num(A[40]) > 0 then
    seen_a = redis.call('HGET', dd, 'a:' .. A[12])
    local known = num(redis.call('ZSCORE', KEYS[29], A[12]))
    local since_ms, wins = string.match(seen_a or '', '^(%d+)|(.*)$')
    local today = since_ms and items(wins, ',') >= num(A[40])
      and num(now) - num(since_ms) >= num(A[41]) * 60000
    if today and known ~= num(A[35]) then
      redis.call('ZADD', KEYS[29], A[35], A[12])
      redis.call('ZREMRANGEBYSCORE', KEYS[29], '-inf', num(A[35]) - 8)
      redis.call('EXPIRE', KEYS[29], 8 * 86400)
    end
    learned = today or (known > 0 and num(A[35]) - known <= 7 and seen_a ~= 'x')
  end
  -- (not the kiosk at the window: one device, one address, each tap opened by a service; not
  -- a rater on the hall's own network: a busy hall is one address)
  local kiosk = ch == 'k' or here
  here = here or learned
  local ip_max = num(A[18]) * (learned and num(A[20]) or 1)
  local tripped = ip_max > 0 and from_ip >= ip_max
  if not kiosk and (tripped or (not learned and flagged > 0 and num(now) - flagged < num(A[26]))) then
    reasons[#reasons + 1] = 'ip_window'
    if tripped then
      redis.call('HSET', KEYS[15], flag, now)
      redis.call('EXPIRE', KEYS[15], 259200)
    end
  end
  -- A burst: far more new raters in 10-20 minutes than the window's last 24 hours. The
  -- threshold is worked out once per window and 10-minute bucket.
  local burst = false
  if not here and num(A[19]) > 0 then  -- (the hall's own network is the place itself)
    local threshold = tonumber(cur[3])
    if not threshold then
      local hour, today, yesterday = tonumber(A[16]), {}, {}
      for h = 0, hour - 1 do today[#today + 1] = window .. ':' .. h end
      for h = hour, 23 do yesterday[#yesterday + 1] = window .. ':' .. h end
      local past = 0
      if #today > 0 then
        for _, v in ipairs(redis.call('HMGET', KEYS[13], unpack(today))) do past = past + num(v) end
      end
      for _, v in ipairs(redis.call('HMGET', KEYS[14], unpack(yesterday))) do past = past + num(v) end
      threshold = math.max(num(A[19]), num(A[20]) * past / 72)
      redis.call('HSET', KEYS[11], 'b' .. window, threshold)
    end
    if recent >= threshold then reasons[#reasons + 1] = 'burst'; burst = true end
  end
  -- One rater on several windows of this unit in a day: this tap is held, and so is the
  -- rater's tap of the day that was counted (staff rating their own unit).
  -- (poster taps only: a visit token, a kiosk or a link is a service, and one person is often
  -- served at two windows)
  -- A citizen served at two windows in one visit (受理, then 缴费) rates both: up to A[31]
  -- windows within A[32] minutes of the rater's first tap of the day are one visit.
  local windows = poster and redis.call('HINCRBY', dd, 'r:' .. rater, 1) or 0
  local since = poster and redis.call('HGET', dd, 'v:' .. rater)
  if poster and not since then redis.call('HSET', dd, 'v:' .. rater, now) end
  local visit = since and windows <= num(A[31]) and num(now) - num(since) <= num(A[32]) * 60000
  if poster and num(A[21]) > 0 and windows > num(A[21]) and not visit then
    reasons[#reasons + 1] = 'multi_window'
    for _, field in ipairs({'f:' .. rater, 'g:' .. rater}) do  -- its counted taps of the day
      local earlier = redis.call('HGET', dd, field)
      if earlier then
        local eid, ewin, elevel = string.match(earlier, '^([^|]*)|([^|]*)|(.*)$')
        hold_counted(hk, day, now, eid, ewin, elevel, 'multi_window', dd)
        redis.call('HDEL', dd, field)
      end
    end
  end

  -- One rater on the unit on many days: citizens seldom come back day after day; staff rating
  -- their own unit do. On the A[33]th day within A[34] days the tap is held, and so are the
  -- rater's counted taps of the earlier days (then they are known to be one person's).
  if poster and num(A[33]) > 0 then
    local older = redis.call('HGET', KEYS[28], rater)
    local back = redis.call('HGET', KEYS[27], rater)
    local today, keep, days = num(A[35]), {}, {}
    for e in string.gmatch((older or '') .. ';' .. (back or ''), '[^;]+') do
      local d = num(string.match(e, '^(%d+)|'))
      if today - d < num(A[34]) then keep[#keep + 1] = e; days[d] = true end
    end
    days[today] = true
    local n = 0
    for _ in pairs(days) do n = n + 1 end
    if n >= num(A[33]) then
      reasons[#reasons + 1] = 'returning'
      for _, e in ipairs(keep) do
        local d, eid, ewin, elevel = string.match(e, '^(%d+)|([^|]*)|([^|]*)|(.*)$')
        local tapdd = ({[today] = dd, [today - 1] = KEYS[30]})[num(d)]  -- (older ones: not weighed)
        if eid then hold_counted(hk, day, now, eid, ewin, elevel, 'returning', tapdd) end
      end
      -- what is left of those days: that the rater rated then ("<day>|R"), so that the rater
      -- stays known while the days stay within A[34]
      keep = {}
      for d in pairs(days) do keep[#keep + 1] = d .. '|R' end
    end
    if #keep > 0 then  -- all in this day's bucket; the bucket before lets go of the rater
      redis.call('HSET', KEYS[27], rater, table.concat(keep, ';'))
      redis.call('EXPIRE', KEYS[27], 86400 * (2 * num(A[34]) + 1))
    else
      redis.call('HDEL', KEYS[27], rater)
    end
    if older then redis.call('HDEL', KEYS[28], rater) end
  end

  -- Many new raters a day from one address outside the hall's networks (where the hall has
  -- them): a patient bot under every per-window threshold. The tap is held, and so are that
  -- address's counted taps of the unit that day.
  if A[36] == '0' and num(A[37]) > 0 then
    local field = 'i:' .. A[12]
    local list = redis.call('HGET', dd, field)
    local n, taps = 0, ''
    if list then n, taps = string.match(list, '^(%d+)|(.*)$'); n = num(n) end
    n = n + 1
    if n > num(A[37]) then
      reasons[#reasons + 1] = 'ip_unit'
      for eid, ewin, elevel in string.gmatch(taps, '([^,;]+),([^,;]+),([^,;]+)') do
        hold_counted(hk, day, now, eid, ewin, elevel, 'ip_unit', dd)
      end
      taps = ''
    end
    redis.call('HSET', dd, field, n .. '|' .. taps)
  end

  if not here then  -- a burst is of raters from elsewhere (the hall's own raise its history)
    incr(KEYS[11], wf, 1800)
  end
  if not kiosk then incr(KEYS[11], ipf, 1800) end
  -- A window's poster rated from elsewhere far more than from the hall itself today: a
  -- photographed poster spread online (those in the hall on mobile data are a share, not most).
  -- Those from elsewhere are the counted ones (a flood held as it came does not hold, for the
  -- rest of the day, the hall's citizens on mobile data).
  -- Unusual is weighed against the hall's usual share from outside (that of the unit's
  -- counted poster taps over the last 7 days, at least A[44]): the window's share today would
  -- come less often than once in A[39] days by chance (0: off).
  -- Today is weighed with yesterday, whose raters from outside are those counted and those
  -- only 'offsite' held ('hx:'): a poster spread for days is seen on the next from its first
  -- taps. Not after a day without any counted from the hall's network on the unit while two
  -- of its windows or more had some from outside (its Wi-Fi down: every window rated from
  -- outside is no spread poster; one window rated from outside alone may be).
  local counts = poster and A[36] == '0' and num(A[38]) > 0 and num(A[39]) > 0
    and redis.call('HMGET', dd, 'sx:' .. window, 'so:' .. window)
  if counts and num(counts[1]) + 1 >= num(A[38]) then
    local before = redis.call('HMGET', KEYS[30], 'sx:' .. window, 'hx:' .. window, 'so:' .. window)
    local y = redis.call('HMGET', KEYS[31], (num(A[35]) - 1) .. ':o', (num(A[35]) - 1) .. ':w')
    if num(y[1]) == 0 and num(y[2]) >= 2 then
      before = {}  -- none from the hall yesterday, windows rated from outside: its network down
    end
    local outside = num(counts[1]) + 1 + num(before[1]) + num(before[2])
    local usual = usual_share(KEYS[31], num(A[35]), num(A[44]))
    if chance_of_more(outside + num(counts[2]) + num(before[3]), outside, usual) * num(A[39]) < 1 then
      reasons[#reasons + 1] = 'offsite'
    end
  end
  -- More counted taps on a window today than the services it has done (its volumes as its
  -- queue system has sent them so far, ratingsvc.volumes) and A[43] more: impossible, so a
  -- poster tap past that is held (a visit token, a kiosk or a link is a service of its own).
  -- Not one from the hall itself: its citizens served since the last report are not in it
  -- yet; excess.lua holds the counted ones above the volumes when they come, those from
  -- elsewhere first.
  if poster and not here and num(A[43]) > 0 then
    local services = redis.call('HGET', KEYS[5], 'w' .. window .. ':vol')
    if services and num(redis.call('HGET', dd, 'c:' .. window)) + 1 > num(services) + num(A[43]) then
      reasons[#reasons + 1] = 'volume'
    end
  end
  -- A burst from elsewhere: the window's counted poster taps from elsewhere of the last 20
  -- minutes are held too (a flood's first taps came before the burst could be seen), but not
  -- those of this tap's own address (many raters from one address are 'ip_window''s to see:
  -- where no network is registered, a busy hall's own before it is learned).
  local xo = 'xo:' .. window
  if burst then
    local list, keep = redis.call('HGET', dd, xo), {}
    for e in string.gmatch(list or '', '[^;]+') do
      local eid, elevel, t, eip = string.match(e, '^([^,]*),([^,]*),([^,]*),(.*)$')
      if num(t) >= num(now) - 1200000 and eip ~= A[12] then
        if A[36] == '' then  -- not the hall's own, whatever else it did today
          redis.call('HSET', dd, 'a:' .. eip, 'x')
          redis.call('ZREM', KEYS[29], eip)
        end
        hold_counted(hk, day, now, eid, window, elevel, 'burst', dd)
      else
        keep[#keep + 1] = e
      end
    end
    if #keep > 0 then redis.call('HSET', dd, xo, table.concat(keep, ';')) else redis.call('HDEL', dd, xo) end
  end
  -- the window's hourly history, that a burst is measured against, holds counted taps only
  -- (held ones would raise the bar for the next wave)
  if #reasons == 0 then incr(KEYS[13], window .. ':' .. A[16], 259200) end
  if #reasons > 0 then
    status, why = 'held', table.concat(reasons, ',')
    add_count(KEYS[4], KEYS[5], KEYS[6], KEYS[7], day, window, 'h', 1, KEYS[23], ch)
  else
    add_count(KEYS[4], KEYS[5], KEYS[6], KEYS[7], day, window, level, 1, KEYS[23], ch)
  end
end

local id = redis.call('XADD', KEYS[8], '*', 'k', 'tap', 't', now, 'w', window, 'l', level,
                      's', status, 'r', rater, 'ip', A[12], 'd', day, 'n', A[7],
                      'of', first or '', 'why', why, 'ch', ch)
redis.call('HSETNX', KEYS[24], ticket, id)
if KEYS[24] ~= dd then redis.call('EXPIRE', KEYS[24], A[10]) end
if status ~= 'duplicate' then
  redis.call('HSET', dd, pair, id)
  redis.call('EXPIRE', dd, A[10])
end
if status == 'counted' then counted_on(dd, window, 1) end
if status == 'counted' and A[36] == '1' then redis.call('HSET', dd, 'on', now) end  -- ('hours': open)
if status == 'counted' and A[36] == '0' and num(A[37]) > 0 then  -- remembered for 'ip_unit'
  local list = redis.call('HGET', dd, 'i:' .. A[12]) or '1|'
  local sep = string.sub(list, -1) == '|' and '' or ';'
  redis.call('HSET', dd, 'i:' .. A[12], list .. sep .. id .. ',' .. window .. ',' .. level)
end
-- for 'offsite' (and excess.lua, which holds those from outside first)
if poster and A[36] == '0' and why == 'offsite' then
  redis.call('HINCRBY', dd, 'hx:' .. window, 1)  -- the next day's 'offsite' weighs them too
end
if status == 'counted' and poster and A[36] ~= '' then
  local side = (A[36] == '1' and 'so:' or 'sx:') .. window
  -- the usual share's hash: a day's first of a field prunes it to 8 days and renews its life
  local function share(field)
    if redis.call('HINCRBY', KEYS[31], A[35] .. field, 1) == 1 then
      for _, f in ipairs(redis.call('HKEYS', KEYS[31])) do
        if num(string.match(f, '^(%d+):')) < num(A[35]) - 7 then redis.call('HDEL', KEYS[31], f) end
      end
      redis.call('EXPIRE', KEYS[31], 9 * 86400)
    end
  end
  if redis.call('HINCRBY', dd, side, 1) == 1 and A[36] == '0' then share(':w') end  -- rated from outside
  -- (hold_counted takes it back; the day's ordinal for the usual share)
  if A[36] == '0' then redis.call('HSET', dd, 's:' .. id, side .. '|' .. A[35]) end
  -- the hall's usual share ('offsite'): a window's day gives it at most four from outside for
  -- each one from the hall ('ux:'), so that a spread poster does not make itself the usual
  local given, inside = unpack(redis.call('HMGET', dd, 'ux:' .. window, 'so:' .. window))
  if A[36] == '1' or num(given) < 4 * num(inside) then
    if A[36] == '0' then redis.call('HINCRBY', dd, 'ux:' .. window, 1) end
    share(A[36] == '1' and ':o' or ':x')
  end
end
if status == 'counted' and A[36] == '' and num(A[40]) > 0 then  -- the addresses seen: the hall's?
  local field = 'a:' .. A[12]
  if seen_a == 'x' then  -- (a burst swept its taps up today)
  elseif not seen_a then
    redis.call('HSET', dd, field, now .. '|' .. window)
  else
    local since_ms, wins = string.match(seen_a, '^(%d+)|(.*)$')
    if items(wins, ',') < num(A[40])
        and not string.find(',' .. wins .. ',', ',' .. window .. ',', 1, true) then
      redis.call('HSET', dd, field, since_ms .. '|' .. wins .. ',' .. window)
    end
  end
end
if status == 'counted' and poster and not here then  -- for 'burst'
  local list = redis.call('HGET', dd, 'xo:' .. window)
  local e = id .. ',' .. level .. ',' .. now .. ',' .. A[12]
  if list and items(list, ';') >= 64 then  -- the last 64
    list = string.sub(list, string.find(list, ';', 1, true) + 1)
  end
  redis.call('HSET', dd, 'xo:' .. window, list and (list .. ';' .. e) or e)
end
if status == 'counted' and poster and num(A[33]) > 0 then  -- remembered for 'returning'
  local back = redis.call('HGET', KEYS[27], rater)
  if not (back and string.find(';' .. back, ';' .. A[35] .. '|', 1, true)) then  -- a day's first
    local e = A[35] .. '|' .. id .. '|' .. window .. '|' .. level
    redis.call('HSET', KEYS[27], rater, back and (back .. ';' .. e) or e)
  end
  redis.call('EXPIRE', KEYS[27], 86400 * (2 * num(A[34]) + 1))
end
if status == 'counted' and poster and num(A[21]) > 0 then  -- its first, or its visit's second
  local field = redis.call('HEXISTS', dd, 'f:' .. rater) == 1 and 'g:' or 'f:'
  redis.call('HSET', dd, field .. rater, id .. '|' .. window .. '|' .. level)
end
if status == 'counted' and num(level) <= num(A[27]) then
  case_open(ck, id, window, level, now, day, now, A[28], A[29])
end
if status == 'held' then
  redis.call('HSET', KEYS[16], id, window .. '|' .. level .. '|' .. why .. '|' .. now)
end
if use_idem then
  redis.call('SET', KEYS[9], status .. '|' .. id .. '|' .. A[8] .. '|' .. why, 'EX', A[9])
end
return {status, id, A[8], '0', why, earlier or ''}
