-- What tells whether units' kept period counts still hold, for many units in one call (all
-- on one node: a cluster's call declares allow-cross-slot-keys). Reads only.
-- A unit's version (ver) moves with every change of its record, counts, snapshots or cases
-- (counters.lua, cases.lua, registry._publish): one GET a unit, where reading what it stands
-- for would take three calls and ten values.
-- KEYS: 1 the first unit's record (where the call goes)
-- ARGV: each unit's key prefix ("rs:{u.<id>}:")
-- Returns a JSON array of the units' versions ("" where absent)
local out = {}
for i = 1, #ARGV do
  out[i] = redis.call('GET', ARGV[i] .. 'ver') or ''
end
return cjson.encode(out)
