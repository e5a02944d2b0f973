-- Gatehouse identity filter: what an app learns of its user comes from the verified token, and the
-- gateway's own session cookies never reach the app.
--
-- Envoy Gateway runs Lua after the jwt filter (internal/xds/translator/httpfilters.go, v1.9.0), whose
-- verified payload is in the dynamic metadata `envoy.filters.http.jwt_authn` under the provider's name.
-- Each route passes its settings as the filter context:
--   provider       the jwt provider whose verified payload is read
--   dropCookies    name prefixes of cookies the app never receives (the gateway's sessions)
--   groupsHeader   set to the verified `groups` claim, comma-separated
--   roleHeader     set to the first of `roles` ({groups, role}) the user is in, else `defaultRole`
--   organizations  X-Org-Slug: the first of them the user belongs to; X-Org-Roles: the roles there
-- Every header named here is set or removed, never appended: a client's copy never survives.

local MEMBERSHIPS = "org_memberships"

local function list(value)
  if type(value) == "table" then return value end
  return {}
end

local function claims(handle, provider)
  local verified = handle:streamInfo():dynamicMetadata():get("envoy.filters.http.jwt_authn")
  if type(verified) ~= "table" or type(provider) ~= "string" then return {} end
  local payload = verified[provider]
  if type(payload) ~= "table" then return {} end
  return payload
end

local function set(headers, name, value)
  if type(name) ~= "string" then return end
  if value == nil or value == "" then
    headers:remove(name)
  else
    headers:replace(name, value)
  end
end

local function drop_cookies(headers, prefixes)
  local cookie = headers:get("cookie")
  if type(cookie) ~= "string" or #prefixes == 0 then return end
  local kept = {}
  for part in string.gmatch(cookie, "[^;]+") do
    local crumb = string.gsub(part, "^%s+", "")
    local dropped = false
    for _, prefix in ipairs(prefixes) do
      if string.sub(crumb, 1, #prefix) == prefix then dropped = true end
    end
    if not dropped and crumb ~= "" then table.insert(kept, crumb) end
  end
  set(headers, "cookie", table.concat(kept, "; "))
end

local function member_of(held, wanted)
  for _, group in ipairs(held) do
    for _, name in ipairs(list(wanted)) do
      if group == name then return true end
    end
  end
  return false
end

local function role_of(held, context)
  for _, entry in ipairs(list(context.roles)) do
    if type(entry) == "table" and member_of(held, entry.groups) then return entry.role end
  end
  return context.defaultRole
end

-- `/orgs/<slug>/<ROLE>` paths: the first listed organization the user is in, and the roles there
local function organization(memberships, organizations)
  for _, slug in ipairs(organizations) do
    local roles = {}
    local prefix = "/orgs/" .. slug .. "/"
    for _, path in ipairs(memberships) do
      if type(path) == "string" and string.sub(path, 1, #prefix) == prefix then
        local role = string.sub(path, #prefix + 1)
        if role ~= "" and not string.find(role, "/", 1, true) then table.insert(roles, role) end
      end
    end
    if #roles > 0 then
      table.sort(roles)
      return slug, table.concat(roles, ",")
    end
  end
  return nil, nil
end

function envoy_on_request(handle)
  local context = handle:filterContext()
  if type(context) ~= "table" then context = {} end
  local headers = handle:headers()
  local payload = claims(handle, context.provider)
  drop_cookies(headers, list(context.dropCookies))
  local groups = list(payload.groups)
  if context.groupsHeader then set(headers, context.groupsHeader, table.concat(groups, ",")) end
  if context.roleHeader then set(headers, context.roleHeader, role_of(groups, context)) end
  if type(context.organizations) == "table" then
    local slug, roles = organization(list(payload[MEMBERSHIPS]), context.organizations)
    set(headers, "x-org-slug", slug)
    set(headers, "x-org-roles", roles)
  end
end
