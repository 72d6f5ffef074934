-- The fields of a unit's counts that its start-of-day snapshots keep (prepended by
-- ratingsvc.store.load_script to the scripts that write or read snapshots).
-- '1'..'5' counted taps per level, 'h' held (pending review), 'x' rejected, 'vol' services
-- done (imported volumes, ratingsvc.volumes); and per channel other than the window poster
-- (ratingsvc.channels: 't' visit token, 'k' kiosk, 'm' SMS link) its own '<c>:1'..'<c>:x'.
-- A poster's counts are the rest: all taps were poster taps before channels were kept.
-- A snapshot made before a field existed reads it as 0.
local COUNT_FIELDS = {'1', '2', '3', '4', '5', 'h', 'x'}
local CHANNEL_CODES = {'t', 'k', 'm'}
local SNAP_FIELDS = {'1', '2', '3', '4', '5', 'h', 'x', 'vol'}
for _, c in ipairs(CHANNEL_CODES) do
  for _, f in ipairs(COUNT_FIELDS) do SNAP_FIELDS[#SNAP_FIELDS + 1] = c .. ':' .. f end
end
