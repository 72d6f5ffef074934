-- Attach the optional reason to a tap: only its own rater, only once, only while fresh. A retry
-- of the same reason (same tags, same comment: the page resends what it could not confirm) is
-- answered as the first time, even after the time to add one has passed.
-- KEYS: 1 log  2 det
-- ARGV: 1 tap stream id  2 rater hash  3 now (ms)  4 max age (ms)  5 tags (comma list)  6 comment
-- Returns {status, id}; status: saved | replayed | unknown | forbidden | closed | exists
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])[1]
if not entry then return {'unknown', ''} end
local f = {}
for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
if f.k ~= 'tap' then return {'unknown', ''} end
if f.r ~= ARGV[2] then return {'forbidden', ''} end
local prev = redis.call('HGET', KEYS[2], ARGV[1])
if prev then
  local given = redis.call('XRANGE', KEYS[1], prev, prev)[1]
  local d = {}
  if given then for i = 1, #given[2], 2 do d[given[2][i]] = given[2][i + 1] end end
  if d.tags == ARGV[5] and d.c == ARGV[6] then return {'replayed', prev} end
  return {'exists', prev}
end
if tonumber(ARGV[3]) - tonumber(f.t) > tonumber(ARGV[4]) then return {'closed', ''} end
local id = redis.call('XADD', KEYS[1], '*', 'k', 'details', 'of', ARGV[1], 't', ARGV[3],
                      'w', f.w, 'l', f.l, 'r', ARGV[2], 'tags', ARGV[5], 'c', ARGV[6])
redis.call('HSET', KEYS[2], ARGV[1], id)
return {'saved', id}
