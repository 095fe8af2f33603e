"""The Lua scripts of the Redis store: every write is one script, so one round trip.

Layout (see store.py beside this file): an item is a hash ``{v, e, x}`` (the JSON
text, the etag, the exact expiry as text, absent when there is none) with a native
``PEXPIREAT``; a partition's keys are members (score 0) of one sorted-set index,
read with ``ZRANGEBYLEX``. Every item key and index key of a partition shares one
hash tag, so a script touches a single cluster slot.

Retry safety: redis-py retries a command whose reply was lost. Every write carries
a fresh etag, so a script that finds its own etag already stored knows it ran before
and reports that success again instead of applying twice (or failing a condition).
"""

from __future__ import annotations

# live(item, now): the hash fields {v, e, x} if the item exists and has not expired.
# Expiry is compared with the caller's clock, as on every backend (``now`` is passed).
_LIVE = """
local function live(item, now)
  local cur = redis.call('HMGET', item, 'v', 'e', 'x')
  if not cur[2] then return nil end
  if cur[3] and tonumber(cur[3]) <= now then return nil end
  return cur
end
local function found(cur)
  if cur then return {0, cur[1], cur[2], cur[3] or ''} end
  return {0}
end
local function write(item, index, member, data, etag, exp, exp_ms)
  redis.call('DEL', item)
  if exp == '' then
    redis.call('HSET', item, 'v', data, 'e', etag)
  else
    redis.call('HSET', item, 'v', data, 'e', etag, 'x', exp)
    redis.call('PEXPIREAT', item, exp_ms)
  end
  redis.call('ZADD', index, 0, member)
end
local function failed(mode, expected, cur)
  return (mode == 'm' and (not cur or cur[2] ~= expected)) or (mode == 'a' and cur)
end
"""

# KEYS: item, index. ARGV: member, mode ('' | 'm' if_match | 'a' if_absent), expected etag,
# now, data, etag, exp ('' = none), exp_ms. Returns {1} or {0[, v, e, x]} (the current item).
PUT = (
    _LIVE
    + """
local now = tonumber(ARGV[4])
local cur = live(KEYS[1], now)
if cur and cur[2] == ARGV[6] then return {1} end
if failed(ARGV[2], ARGV[3], cur) then return found(cur) end
write(KEYS[1], KEYS[2], ARGV[1], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
return {1}
"""
)

# KEYS: item, index. ARGV: member, mode ('' | 'm'), expected etag, now.
# Returns {1, existed (1/0)} or {0[, v, e, x]}.
DELETE = (
    _LIVE
    + """
local cur = live(KEYS[1], tonumber(ARGV[4]))
if failed(ARGV[2], ARGV[3], cur) then return found(cur) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if cur then return {1, 1} end
return {1, 0}
"""
)

# KEYS: item, index. ARGV: member, by, etag, now.
# Returns {1, new value as text} or {0, error} when the live value is not a 64-bit integer.
# HINCRBY keeps the hash's TTL; an absent or expired item restarts at ``by`` without one.
INCREMENT = (
    _LIVE
    + """
local cur = live(KEYS[1], tonumber(ARGV[4]))
if cur and cur[2] == ARGV[3] then return {1, cur[1]} end
if not cur then
  write(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], '', '')
  return {1, ARGV[2]}
end
local n = redis.pcall('HINCRBY', KEYS[1], 'v', ARGV[2])
if type(n) == 'table' and n.err then return {0, n.err} end
redis.call('HSET', KEYS[1], 'e', ARGV[3])
return {1, redis.call('HGET', KEYS[1], 'v')}
"""
)

# KEYS: index, then one item key per op. ARGV: now, then 8 per op:
# kind ('P' put | 'D' delete | 'C' check), member, mode, expected, data, etag, exp, exp_ms.
# Every condition is checked before anything is applied: all or nothing.
# Returns {1} or {0, op number (1-based)[, v, e, x]}.
TRANSACT = (
    _LIVE
    + """
local now = tonumber(ARGV[1])
local n = #KEYS - 1
local curs = {}
for i = 1, n do
  local b = 2 + (i - 1) * 8
  curs[i] = live(KEYS[i + 1], now)
  if ARGV[b] == 'P' and curs[i] and curs[i][2] == ARGV[b + 5] then return {1} end
end
for i = 1, n do
  local b = 2 + (i - 1) * 8
  if failed(ARGV[b + 2], ARGV[b + 3], curs[i]) then
    local r = found(curs[i])
    table.insert(r, 2, i)
    return r
  end
end
for i = 1, n do
  local b = 2 + (i - 1) * 8
  if ARGV[b] == 'P' then
    write(KEYS[i + 1], KEYS[1], ARGV[b + 1], ARGV[b + 4], ARGV[b + 5], ARGV[b + 6], ARGV[b + 7])
  elseif ARGV[b] == 'D' then
    redis.call('DEL', KEYS[i + 1])
    redis.call('ZREM', KEYS[1], ARGV[b + 1])
  end
end
return {1}
"""
)

# KEYS: index, then the item keys whose hashes a listing found missing.
# ARGV: their members, in the same order. Removes each member from the index only if
# its hash is still missing, so a put that re-created the item meanwhile keeps its entry.
# (Listing itself is ZRANGEBYLEX + HMGETs from the client: a script may only touch the
# keys it declares, which ElastiCache enforces, and the members are not known up front.)
FORGET_MISSING = """
local removed = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i - 1])
  end
end
return removed
"""
