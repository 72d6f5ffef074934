-- One step of a case (ratingsvc.cases.store decides which steps exist; this only makes one
-- happen atomically, if the case is in a state the step starts from).
-- KEYS: 1 cs  2 cq  3 log  4 cv  5 ver
-- ARGV: 1 tap stream id  2 action  3 states it starts from (comma list)  4 state it ends in
--       5 now (ms)  6 by  7 fields to set: JSON list [[name, value], ...] (also logged)
--       8 its score in cq (rkeys: the deadline of the step it owes, or minus its follow-up
--       deadline), "" once it is no longer open
--       9 only if the case's follow-up deadline is before this (ms), "" : any time
--       10 only if the case's follow-up deadline is not before this (ms), "" : any time
-- Returns {done | unknown | state | early | late, the case's state (after the step if done)}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {'unknown', ''} end
local c = cjson.decode(raw)
local allowed = false
for s in string.gmatch(ARGV[3], '[^,]+') do if s == c.s then allowed = true end end
if not allowed then return {'state', c.s} end
if ARGV[9] ~= '' and (c.fd or 0) >= tonumber(ARGV[9]) then return {'early', c.s} end
if ARGV[10] ~= '' and (c.fd or 0) < tonumber(ARGV[10]) then return {'late', c.s} end
local from, extra = c.s, {}
for _, kv in ipairs(cjson.decode(ARGV[7])) do
  c[kv[1]] = kv[2]
  extra[#extra + 1] = kv[1]
  extra[#extra + 1] = tostring(kv[2])
end
c.s = ARGV[4]
c.h[#c.h + 1] = {a = ARGV[2], t = tonumber(ARGV[5]), by = ARGV[6]}
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(c))
if ARGV[8] == '' then redis.call('ZREM', KEYS[2], ARGV[1])
else redis.call('ZADD', KEYS[2], ARGV[8], ARGV[1]) end
case_log({log = KEYS[3], cv = KEYS[4], ver = KEYS[5]}, ARGV[1], c, ARGV[2], from, ARGV[6], ARGV[5], extra)
return {'done', c.s}
