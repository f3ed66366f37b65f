-- Mailtime change feed for Dovecot's push_notification Lua driver.
--
-- Every mail transaction (a delivery, an APPEND, a MOVE, a flag change, a folder created, renamed or
-- deleted, by IMAP, LDA/LMTP or doveadm) appends ONE line of JSON to an hourly spool file,
-- <mailtime_spool>/<YYYYMMDDHH>.jsonl (UTC hour), that Mailtime follows:
--
--   {"v":1,"user":"alice","svc":"imap","ok":true,"res":1,
--    "events":[{"e":"MessageAppend","box":"INBOX","t":1796657405472,"uid":1,"uv":1796657406}]}
--
-- Why a file: this script runs inside the user's mail process, and whatever it waits on, the user's
-- command waits on. Appending a line to a local file takes microseconds and does not depend on
-- Mailtime running; the file keeps every change while Mailtime is stopped (a network call would be
-- synchronous, and an event is dropped when its receiver is down). See README.md beside this file.
--
-- Guarantees (and their limits):
-- 1. The script never raises an error into Dovecot: every step is protected, and a failure is logged
--    as a warning (at most once a minute per process and kind); the mail operation goes on and succeeds.
-- 2. One write() per transaction: the line is built whole and written unbuffered in one call, with
--    O_APPEND, so concurrent writers (other users' processes) never interleave within a line.
-- 3. A line left incomplete by an earlier failed write (disk full) is closed with a newline before
--    the next one is written, so it costs only itself (Mailtime reports it with its file and line).
-- 4. The line is pure ASCII: names are JSON-escaped, and every character outside ASCII is written as
--    \uXXXX (surrogate pairs above U+FFFF). A string that is not valid UTF-8 (Dovecot checks mailbox
--    names, but not user names) is written byte by byte as U+0080..U+00FF.
-- 5. Integers are written as integers (Lua 5.4 hands uid and uid_validity over as floats); a value
--    that is not a finite integer is left out rather than written wrong.
-- 6. Instants are milliseconds since 1970 (UTC) from LuaSocket's gettime when it is installed
--    ("res":1); otherwise from os.time(), to the second ("res":1000: the change happened within the
--    1000 ms that follow "t"). Setting mailtime_spool_clock = seconds forces the latter.
-- 7. No message content is written: no subject, sender, recipients or snippet, only the user, the
--    folder, UIDs and UIDVALIDITY. Whoever can read the spool learns who got mail in which folder.
-- 8. When the spool directory is missing, not writable or full, the change is not written (it is
--    lost to the feed; Mailtime's polling round still finds it) and a warning goes to Dovecot's log.

local SPOOL_SETTING = "mailtime_spool"
local CLOCK_SETTING = "mailtime_spool_clock"
local FORMAT_VERSION = 1

-- LuaSocket, for millisecond instants. Loading it can fail (not installed): that is not an error.
local socket_ok, socket = pcall(require, "socket")
if not socket_ok or type(socket) ~= "table" or type(socket.gettime) ~= "function" then
  socket = nil
end

-- Warnings go to Dovecot's log, at most once a minute per process and kind, so that a missing spool
-- does not flood it.
local warned = {}
local function warn(kind, message)
  local t = os.time()
  if warned[kind] ~= nil and t - warned[kind] < 60 then return end
  warned[kind] = t
  pcall(function()
    if dovecot ~= nil and type(dovecot.i_warning) == "function" then
      dovecot.i_warning("mailtime feed: " .. tostring(message))
    end
  end)
end

-- JSON -----------------------------------------------------------------------------------------

local function escape_code_point(c)
  if c == 0x22 then return '\\"' end
  if c == 0x5C then return '\\\\' end
  if c >= 0x20 and c < 0x7F then return string.char(c) end
  if c < 0x10000 then return string.format("\\u%04x", c) end
  -- Above the BMP: a UTF-16 surrogate pair (JSON's \u escapes are UTF-16 code units).
  local v = c - 0x10000
  return string.format("\\u%04x\\u%04x", 0xD800 + math.floor(v / 0x400), 0xDC00 + v % 0x400)
end

local function json_string(value)
  local s = tostring(value)
  -- The common case: printable ASCII without a quote or a backslash is written as it is.
  if not s:find('[%c"\\\128-\255]') then return '"' .. s .. '"' end
  local out = {}
  if utf8 ~= nil and utf8.len(s) ~= nil then
    for _, c in utf8.codes(s) do out[#out + 1] = escape_code_point(c) end
  else
    for i = 1, #s do out[#out + 1] = escape_code_point(s:byte(i)) end
  end
  return '"' .. table.concat(out) .. '"'
end

-- An integer as JSON, or nil when the value is not a finite integer that JSON readers keep exactly.
local function json_integer(value)
  local x = tonumber(value)
  if x == nil or x ~= x or x ~= math.floor(x) or math.abs(x) >= 2 ^ 53 then return nil end
  return string.format("%.0f", x)
end

-- Clock ----------------------------------------------------------------------------------------

local function now(ctx)
  if ctx.res == 1 then
    local ok, t = pcall(socket.gettime)
    if ok and type(t) == "number" then return math.floor(t * 1000) end
    ctx.res = 1000
  end
  return os.time() * 1000
end

-- Callbacks ------------------------------------------------------------------------------------

function dovecot_lua_notify_begin_txn(user)
  local ctx = { events = {}, res = 1000 }
  local ok, err = pcall(function()
    ctx.user = user.username
    ctx.service = user.service
    ctx.spool = user:plugin_getenv(SPOOL_SETTING)
    if socket ~= nil and user:plugin_getenv(CLOCK_SETTING) ~= "seconds" then ctx.res = 1 end
  end)
  if not ok then warn("begin", err) end
  return ctx
end

local function add_event(ctx, event)
  local ok, err = pcall(function()
    local parts = { '"e":' .. json_string(event.name), '"box":' .. json_string(event.mailbox or ""), '"t":' .. json_integer(now(ctx)) }
    local uid = json_integer(event.uid)
    if uid ~= nil then parts[#parts + 1] = '"uid":' .. uid end
    local uv = json_integer(event.uid_validity)
    if uv ~= nil then parts[#parts + 1] = '"uv":' .. uv end
    if event.mailbox_old ~= nil then parts[#parts + 1] = '"old":' .. json_string(event.mailbox_old) end
    ctx.events[#ctx.events + 1] = "{" .. table.concat(parts, ",") .. "}"
  end)
  if not ok then warn("event", err) end
end

for _, name in ipairs({
  "message_new", "message_append", "message_expunge", "message_trash", "message_read",
  "flags_set", "flags_clear",
  "mailbox_create", "mailbox_delete", "mailbox_rename", "mailbox_subscribe", "mailbox_unsubscribe",
}) do
  _G["dovecot_lua_notify_event_" .. name] = add_event
end

-- Appends the line with one write(); closes a partial line an earlier failed write left behind.
local function append_line(path, line)
  local f, open_err = io.open(path, "a+")
  if f == nil then return false, open_err end
  local ok, err = pcall(function()
    -- Unbuffered: the read below takes one byte (not a block), and f:write hands the whole line
    -- to a single write() (glibc writes an unbuffered fwrite at once).
    f:setvbuf("no")
    local size = f:seek("end")
    if size ~= nil and size > 0 then
      f:seek("set", size - 1)
      if f:read(1) ~= "\n" then line = "\n" .. line end
      f:seek("end")
    end
    local written, write_err = f:write(line)
    if written == nil then error(write_err) end
  end)
  pcall(function() f:close() end)
  return ok, err
end

function dovecot_lua_notify_end_txn(ctx, success)
  local ok, err = pcall(function()
    if #ctx.events == 0 then return end
    if ctx.spool == nil or ctx.spool == "" then
      warn("setting", SPOOL_SETTING .. " is not set: changes are not written to any spool")
      return
    end
    local line = '{"v":' .. FORMAT_VERSION .. ',"user":' .. json_string(ctx.user or "") .. ',"svc":' .. json_string(ctx.service or "")
      .. ',"ok":' .. tostring(success == true) .. ',"res":' .. ctx.res .. ',"events":[' .. table.concat(ctx.events, ",") .. "]}\n"
    local path = ctx.spool .. "/" .. os.date("!%Y%m%d%H") .. ".jsonl"
    local appended, append_err = append_line(path, line)
    if not appended then
      -- io.open's message starts with the path already.
      local reason = tostring(append_err)
      if reason:sub(1, #path + 2) == path .. ": " then reason = reason:sub(#path + 3) end
      warn("write", "cannot append to " .. path .. ": " .. reason .. " (this change is not in the spool)")
    end
  end)
  if not ok then warn("end", err) end
end
