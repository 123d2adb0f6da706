-- Argo CD health check for jetway.dev/Extension.
--
-- Argo CD does not read kstatus conditions of kinds it does not know, so
-- without this script every Extension shows as Healthy the moment it is
-- applied. This reads what the Extension controller writes (Ready,
-- Reconciling and Stalled conditions, status.observedGeneration and the
-- status word Fly sees, status.phase) and answers as Argo CD expects: a
-- table with status (Healthy, Progressing, Degraded or Suspended) and a
-- message. Install it as resource.customizations.health.jetway.dev_Extension
-- in argocd-cm (argocd-cm.yaml beside this file; docs/gitops.md). Kept in
-- step with the controller by test/integration/gitops_health_test.go, which
-- runs it over statuses the controller really wrote.

local hs = {}

-- findCondition returns the condition of type t, or nil.
local function findCondition(t)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t then
      return c
    end
  end
  return nil
end

-- current says whether a condition was written for the spec as it is now,
-- not for an earlier generation.
local function current(c)
  return c.observedGeneration == nil or c.observedGeneration == obj.metadata.generation
end

-- An operator's pause holds every Jetway controller back (no Fly call, no
-- status write), so the status below may be stale: say it is paused.
if obj.metadata.annotations ~= nil and obj.metadata.annotations["jetway.dev/paused"] == "true" then
  hs.status = "Suspended"
  hs.message = "Paused by the jetway.dev/paused annotation: Jetway leaves this extension as it is until the annotation is removed"
  return hs
end

-- Argo CD itself answers "Pending deletion" before it runs this script;
-- this covers other callers of the script.
if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Being deleted: Jetway is tearing down the Fly app, machines and addresses"
  return hs
end

if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Extension controller's first pass"
  return hs
end

-- Stalled: Jetway cannot go on without a person (a token Fly rejects, a
-- paused rollout, a refused storage shrink, a missing plan, ...).
local stalled = findCondition("Stalled")
if stalled ~= nil and stalled.status == "True" and current(stalled) then
  hs.status = "Degraded"
  hs.message = "Stalled (" .. (stalled.reason or "") .. "): " .. (stalled.message or "")
  return hs
end

-- Failing past the plan's progressDeadline: Jetway keeps trying
-- (Reconciling), but Fly already tells the customer "error", so Argo CD
-- should not call it mere progress.
local ready = findCondition("Ready")
if obj.status.phase == "error" and ready ~= nil and ready.status ~= "True" and current(ready) then
  hs.status = "Degraded"
  hs.message = obj.status.errorMessage or ready.message or "The extension is failing"
  return hs
end

if obj.status.observedGeneration == nil or obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for Jetway to finish a pass over generation " .. tostring(obj.metadata.generation)
  return hs
end

if ready ~= nil and ready.status == "True" and current(ready) then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  if obj.status.phase == "sleeping" then
    hs.message = "Asleep until a request wakes it (Fly autostop): " .. (ready.message or "")
  end
  return hs
end

hs.status = "Progressing"
if ready ~= nil and ready.message ~= nil and ready.message ~= "" then
  hs.message = ready.message
else
  hs.message = "Not ready yet"
end
return hs
