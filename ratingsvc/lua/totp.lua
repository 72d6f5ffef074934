-- A TOTP code works once, and a second factor is set only where there is none: each check and
-- write in one step (two requests with the same code cannot both pass).
-- KEYS: 1 the account's hash
-- ARGV: 1 enable|use  2 the code's time step  3 the secret (enable)
-- Returns 1 when done, 0 when refused.
if ARGV[1] == 'enable' then
  if (redis.call('HGET', KEYS[1], 'totp') or '') ~= '' then return 0 end
  redis.call('HSET', KEYS[1], 'totp', ARGV[3], 'totp_last', ARGV[2])
  return 1
end
if (redis.call('HGET', KEYS[1], 'totp') or '') == '' then return 0 end
local last = tonumber(redis.call('HGET', KEYS[1], 'totp_last') or '') or -1
if tonumber(ARGV[2]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'totp_last', ARGV[2])
return 1
