-- chunkedCalls (included by the loader at `-- #include chunkedCalls`; not a script):
-- commands over long argument lists, cut so that `unpack` stays within Lua's C stack.
--   callChunked(command, key, list, width, chunk)  runs `command key <items>` once per
--       `chunk` groups of `width` items of `list` (e.g. HSET: width 2, HDEL: width 1);
--       with key nil, `command <items>` (MSET: width 2, DEL: width 1); nothing when
--       `list` is empty
--   hmgetInto(key, fields, into, chunk)  into[field] = HMGET value (false when absent),
--       one HMGET per `chunk` fields; returns `into`
--   mgetPagesInto(prefix, pages, into, chunk)  into[p] = the string key prefix .. p (false
--       when absent) for each page number p of `pages`, one MGET per `chunk` pages
-- Include it before any snippet that uses it (pageRanges does).
local function callChunked(command, key, list, width, chunk)
  local step = width * chunk
  for i = 1, #list, step do
    if key == nil then
      redis.call(command, unpack(list, i, math.min(i + step - 1, #list)))
    else
      redis.call(command, key, unpack(list, i, math.min(i + step - 1, #list)))
    end
  end
end

local function hmgetInto(key, fields, into, chunk)
  for i = 1, #fields, chunk do
    local j = math.min(i + chunk - 1, #fields)
    local vals = redis.call('HMGET', key, unpack(fields, i, j))
    for k = 1, j - i + 1 do into[fields[i + k - 1]] = vals[k] end
  end
  return into
end

local function mgetPagesInto(prefix, pages, into, chunk)
  for i = 1, #pages, chunk do
    local j = math.min(i + chunk - 1, #pages)
    local names = {}
    for k = i, j do names[#names + 1] = prefix .. string.format('%d', pages[k]) end
    local vals = redis.call('MGET', unpack(names))
    for k = i, j do into[pages[k]] = vals[k - i + 1] end
  end
  return into
end
