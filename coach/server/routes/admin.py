"""Admins' account changes (the same code `coach team` runs, each audited) and the audit log."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from coach.server import accounts, queries
from coach.server.deps import Admin, AdminAct, State
from coach.server.models import DeviceIn, PolicyIn, TeamIn, UserIn

router = APIRouter()


@router.post("/api/admin/teams", status_code=201)
async def new_team(body: TeamIn, act: AdminAct) -> dict[str, Any]:
    tid = await act("create team", body.name, lambda c: accounts.create_team(c, body.name))
    return {"id": tid}


@router.post("/api/admin/users", status_code=201)
async def new_user(body: UserIn, act: AdminAct) -> dict[str, Any]:
    uid = await act("create user", body.name, lambda c: accounts.create_user(
        c, body.name, body.role, body.password, body.team, body.supervises))
    return {"id": uid}


@router.post("/api/admin/devices", status_code=201)
async def new_device(body: DeviceIn, act: AdminAct) -> dict[str, Any]:
    did, token = await act("issue device token", body.agent, lambda c: accounts.issue_device_token(c, body.agent, body.name))
    return {"id": did, "token": token}


@router.delete("/api/admin/devices/{device_id}", status_code=204)
async def revoke(device_id: int, act: AdminAct) -> None:
    await act("revoke device", str(device_id), lambda c: accounts.revoke_device(c, device_id))


@router.post("/api/admin/users/{name}/disable", status_code=204)
async def disable_user(name: Annotated[str, Path(max_length=80)], act: AdminAct) -> None:
    """Offboarding: no more logins, open ones end, the person's devices are revoked."""
    await act("disable user", name, lambda c: accounts.disable_user(c, name))


@router.delete("/api/admin/users/{name}/supervises/{team}", status_code=204)
async def remove_supervision(name: Annotated[str, Path(max_length=80)], team: Annotated[str, Path(max_length=80)],
                             act: AdminAct) -> None:
    await act("remove supervision", f"{name}: {team}", lambda c: accounts.remove_supervision(c, name, team))


@router.get("/api/admin/audit")
async def audit(p: Admin, st: State, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    async with st.pool.connection() as c:
        return [queries.jsonable(r) for r in await queries.audit_rows(c, limit)]


@router.put("/api/admin/teams/{team}/policy", status_code=204)
async def team_policy(team: Annotated[str, Path(max_length=80)], body: PolicyIn, act: AdminAct) -> None:
    await act("set policy", f"{team}: whole calls {body.share_whole_calls}",
              lambda c: accounts.set_team_policy(c, team, body.share_whole_calls))
