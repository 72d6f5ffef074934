-- Cases (ratingsvc.cases): the case a 差评 opens, kept in its unit's slot, so that it opens or
-- is voided in the same script as the count that causes it (prepended by store.load_script).
-- A case is a JSON object in the hash cs (field: the tap's stream id); cq holds open cases by
-- their next deadline, ca every case by its tap's time. Every change of a case is appended to
-- the unit's log as a 'case' entry: who, when, from which state to which, and what was said.
-- Every change of a unit's cases or appeals also bumps its case version cv (read to know which
-- units' cases a cached table may keep: ratingsvc.cases.rates.CasesCache), and the unit's
-- version ver (rkeys.UnitKeys.version).
-- ck: {cs =, cq =, ca =, log =, cv =, ver =} key names.

-- The log entry of a case change; extra: a list k1, v1, k2, v2, ...
local function case_log(ck, id, c, action, from, by, now, extra)
  redis.call('INCR', ck.cv)
  redis.call('INCR', ck.ver)
  local args = {'k', 'case', 'of', id, 'a', action, 'from', from, 'to', c.s, 'by', by,
                't', now, 'd', c.d, 'w', c.w, 'l', c.l}
  for _, v in ipairs(extra or {}) do args[#args + 1] = v end
  redis.call('XADD', ck.log, '*', unpack(args))
end

-- Open the case of a counted 差评 (again, if it was voided: a tap held, then released).
local function case_open(ck, id, window, level, tapms, day, now, vd, rd)
  local raw = redis.call('HGET', ck.cs, id)
  local c, from = {h = {}}, ''
  if raw then
    c = cjson.decode(raw)
    if c.s ~= 'void' then return end
    from = 'void'
  end
  c.w, c.l, c.t, c.d, c.o, c.s = tonumber(window), tonumber(level), tonumber(tapms), day, tonumber(now), 'new'
  c.vd, c.rd, c.fd, c.vt, c.rt, c.ct, c.fu, c.why = tonumber(vd), tonumber(rd), nil, nil, nil, nil, nil, nil
  c.note, c.cause, c.act, c.reply = nil, nil, nil, nil  -- a reopened case starts afresh
  c.h[#c.h + 1] = {a = 'open', t = tonumber(now), by = ''}
  redis.call('HSET', ck.cs, id, cjson.encode(c))
  redis.call('ZADD', ck.cq, vd, id)
  redis.call('ZADD', ck.ca, tapms, id)
  case_log(ck, id, c, 'open', from, '', now, {'vd', vd, 'rd', rd})
end

-- Void a case: its tap no longer counts as a 差评 (held, changed by its rater, appeal upheld).
local function case_void(ck, id, why, now, by)
  local raw = redis.call('HGET', ck.cs, id)
  if not raw then return end
  local c = cjson.decode(raw)
  if c.s == 'void' then return end
  local from = c.s
  c.s, c.why = 'void', why
  c.h[#c.h + 1] = {a = 'void', t = tonumber(now), by = by, why = why}
  redis.call('HSET', ck.cs, id, cjson.encode(c))
  redis.call('ZREM', ck.cq, id)
  case_log(ck, id, c, 'void', from, by, now, {'why', why})
end

-- A case's tap changed level within the 差评 levels: the case keeps it.
local function case_level(ck, id, level)
  local raw = redis.call('HGET', ck.cs, id)
  if not raw then return end
  local c = cjson.decode(raw)
  c.l = tonumber(level)
  redis.call('HSET', ck.cs, id, cjson.encode(c))
  redis.call('INCR', ck.cv)
  redis.call('INCR', ck.ver)
end
