-- What tells whether units' kept period counts and cases still hold, for many units in one
-- call (all on one node: a cluster's call declares allow-cross-slot-keys). Reads only.
-- KEYS: 1 the first unit's record (where the call goes)
-- ARGV: each unit's key prefix ("rs:{u.<id>}:"): its info, tot and cv (case version)
-- Returns a JSON array with a row per unit: {name, category, active, t1..t5, th, tx, case
-- version} (false where absent)
local F = {'1', '2', '3', '4', '5', 'h', 'x'}
local out = {}
for i = 1, #ARGV do
  local row = redis.call('HMGET', ARGV[i] .. 'info', 'name', 'category', 'active')
  local tot = redis.call('HMGET', ARGV[i] .. 'tot', unpack(F))
  for j = 1, #F do row[3 + j] = tot[j] end
  row[11] = redis.call('GET', ARGV[i] .. 'cv')
  out[#out + 1] = row
end
return cjson.encode(out)
