/**
 * Lua scripts for the Redis hot state; each runs as one atomic step on the server.
 *
 * Key layout (P = key prefix, C = `<budgetId>:<windowStart>`):
 * - `P c:C`  hash: `spent`, `reserved` (micro-dollars) and `r:<reservationId>` → amount, so an
 *            expired reservation's amount is still known when it is pruned from `reserved`;
 *            `seeded` (set only by the seed script: reserve refuses to trust a counter without
 *            it) and `settledAt` (epoch ms of the last settle, for the seed's quiet check).
 * - `P z:C`  sorted set: reservation ids on this counter, scored by expiry (epoch ms). Pruned
 *            lazily at the start of every script that reads the counter.
 * - `P r:<reservationId>` hash: `counters` (JSON list of its `c`/`z` keys); PEXPIRE = ttl, so
 *            release/settle can find the counters from the id alone.
 * - `P s:<reservationId>` marker that settle already charged; expires after a day.
 * - `P rl:<key>` hash: GCRA bucket `level` and `ts`; PEXPIRE = window (it is empty by then).
 *
 * Numbers are written with `int()`: Lua's default number-to-string keeps only 14 digits.
 * The clock is Redis's TIME unless the caller passes one, so instances with skewed clocks still
 * agree on which reservations have expired.
 */
const prelude = `
local function int(x) return string.format('%d', x) end
local function clock(given)
  if given ~= '' then return tonumber(given) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function prune(c, z, now)
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', int(now))
  for _, id in ipairs(expired) do
    local amount = redis.call('HGET', c, 'r:' .. id)
    if amount then
      redis.call('HINCRBY', c, 'reserved', int(-tonumber(amount)))
      redis.call('HDEL', c, 'r:' .. id)
    end
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', int(now)) end
end
local function unreserve(c, z, id)
  local amount = redis.call('HGET', c, 'r:' .. id)
  if amount then
    redis.call('HINCRBY', c, 'reserved', int(-tonumber(amount)))
    redis.call('HDEL', c, 'r:' .. id)
  end
  redis.call('ZREM', z, id)
end
local function touch(c, z, expireAt)
  if expireAt ~= '0' then
    redis.call('PEXPIREAT', c, expireAt)
    redis.call('PEXPIREAT', z, expireAt)
  end
end
-- The record's counters are read from the record itself (keys not declared in KEYS): fine on a
-- single Redis; on Cluster it holds only because the key prefix carries one hash tag.
local function drop_reservation(r, id)
  local counters = redis.call('HGET', r, 'counters')
  if counters then
    local list = cjson.decode(counters)
    for i = 1, #list, 2 do unreserve(list[i], list[i + 1], id) end
  end
  redis.call('DEL', r)
end
`;

/** KEYS: r, then c/z per check. ARGV: now, id, amount, ttl, then limit/enforce/expireAt per check. */
export const reserveScript = `${prelude}
local now = clock(ARGV[1])
local id, amount, ttl = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[1]) == 1 then return {1} end
local n = (#KEYS - 1) / 2
local unseeded = {2}
for i = 1, n do
  local base = 4 + 3 * (i - 1)
  if ARGV[base + 2] == '1' and redis.call('HEXISTS', KEYS[2 * i], 'seeded') == 0 then
    unseeded[#unseeded + 1] = i
  end
end
if #unseeded > 1 then return unseeded end
for i = 1, n do
  local c, z, base = KEYS[2 * i], KEYS[2 * i + 1], 4 + 3 * (i - 1)
  prune(c, z, now)
  if ARGV[base + 2] == '1' then
    local spent = tonumber(redis.call('HGET', c, 'spent') or '0')
    local reserved = tonumber(redis.call('HGET', c, 'reserved') or '0')
    if spent + reserved + amount > tonumber(ARGV[base + 1]) then return {0, i, spent, reserved} end
  end
end
local counters = {}
for i = 1, n do
  local c, z, base = KEYS[2 * i], KEYS[2 * i + 1], 4 + 3 * (i - 1)
  redis.call('HINCRBY', c, 'reserved', int(amount))
  redis.call('HSET', c, 'r:' .. id, int(amount))
  redis.call('ZADD', z, int(now + ttl), id)
  touch(c, z, ARGV[base + 3])
  counters[2 * i - 1], counters[2 * i] = c, z
end
redis.call('HSET', KEYS[1], 'counters', cjson.encode(counters))
redis.call('PEXPIRE', KEYS[1], int(ttl))
return {1}
`;

/**
 * KEYS: r, s, then c/z per key charged. ARGV: now, id, actual, settledTtl, then expireAt per key.
 * Never sets `seeded`: a counter this creates holds only the settles since it was lost.
 */
export const settleScript = `${prelude}
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local now = clock(ARGV[1])
drop_reservation(KEYS[1], ARGV[2])
for i = 1, (#KEYS - 2) / 2 do
  local c, z = KEYS[2 * i + 1], KEYS[2 * i + 2]
  redis.call('HINCRBY', c, 'spent', ARGV[3])
  redis.call('HSET', c, 'settledAt', int(now))
  touch(c, z, ARGV[4 + i])
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
return 1
`;

/** KEYS: r. ARGV: id. */
export const releaseScript = `${prelude}
drop_reservation(KEYS[1], ARGV[1])
return 1
`;

/** KEYS: c, z. ARGV: now. Prunes, so the figures count live reservations only. */
export const counterScript = `${prelude}
prune(KEYS[1], KEYS[2], clock(ARGV[1]))
local figures = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
return {tonumber(figures[1] or '0'), tonumber(figures[2] or '0')}
`;

/** KEYS: c, z. ARGV: now, seed, expireAt, quietMs ('' = never lower). */
export const seedScript = `${prelude}
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '-1')
local quiet = false
if ARGV[4] ~= '' then
  local settledAt = tonumber(redis.call('HGET', KEYS[1], 'settledAt') or '0')
  quiet = clock(ARGV[1]) - settledAt >= tonumber(ARGV[4])
end
if quiet or spent < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], 'spent', ARGV[2]) end
redis.call('HSET', KEYS[1], 'seeded', '1')
touch(KEYS[1], KEYS[2], ARGV[3])
return 1
`;

/** KEYS: one bucket per check. ARGV: now, then limit/window/cost per check. Mirrors gcraStep(). */
export const rateScript = `${prelude}
local now = clock(ARGV[1])
local levels, stamps = {}, {}
for i = 1, #KEYS do
  local limit, window, cost = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local capacity, need = limit * window, cost * window
  if need > capacity then return {0, i, window} end
  local state = redis.call('HMGET', KEYS[i], 'level', 'ts')
  local ts = tonumber(state[2]) or now
  local level = math.max(0, (tonumber(state[1]) or 0) - math.max(0, now - ts) * limit)
  if level + need > capacity then
    return {0, i, math.max(1, math.ceil((level + need - capacity) / limit))}
  end
  levels[i], stamps[i] = level + need, math.max(ts, now)
end
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], 'level', int(levels[i]), 'ts', int(stamps[i]))
  redis.call('PEXPIRE', KEYS[i], ARGV[3 * i])
end
return {1}
`;
