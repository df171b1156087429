"""Logging in and out: a login is a random token, kept hashed, sent back as a bearer token
and as an HttpOnly, SameSite=Strict cookie for the dashboard."""

from math import ceil
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

from coach.server import accounts, guards, queries
from coach.server.deps import PersonDep, State, bearer
from coach.server.models import LoginIn

LOGIN_HOURS = 12

router = APIRouter()


@router.post("/api/login")
async def login(body: LoginIn, request: Request, response: Response, st: State) -> dict[str, Any]:
    address = request.client.host if request.client else "?"
    if wait := st.failed_logins.wait_s(body.name, address):
        raise HTTPException(429, "too many failed logins for this name; wait a while", headers={"Retry-After": str(ceil(wait))})
    try:
        async with st.hashing.slot():  # bounded: refused at once rather than queued without end
            async with st.pool.connection() as c:
                row = await queries.user_named(c, body.name)
            ok = await run_in_threadpool(accounts.check_password, row[1] if row else None, body.password)
    except guards.Busy:
        raise HTTPException(503, "too many logins at once; try again in a moment", headers={"Retry-After": "1"}) from None
    async with st.pool.connection() as c:
        if not (row and ok):
            wait = st.failed_logins.failed(body.name, address)
            await queries.audit(c, row[0] if row else None, None, "login failed", body.name, request)
            raise HTTPException(401, "wrong name or password", headers={"Retry-After": str(ceil(wait))} if wait else None)
        st.failed_logins.succeeded(body.name, address)
        token = accounts.new_token("l")
        await queries.add_login(c, accounts.hash_token(token), row[0], LOGIN_HOURS)
        await queries.audit(c, row[0], None, "login", body.name, request)
    # Secure whenever the browser's side is HTTPS: this server's TLS, or a TLS proxy in front
    secure = st.tls or st.behind_proxy or request.url.scheme == "https"
    response.set_cookie("coach_session", token, max_age=LOGIN_HOURS * 3600, httponly=True, secure=secure, samesite="strict")
    return {"token": token, "role": row[2], "expires_in_s": LOGIN_HOURS * 3600}


@router.post("/api/logout", status_code=204)
async def logout(request: Request, response: Response, p: PersonDep, st: State) -> None:
    async with st.pool.connection() as c:
        await queries.drop_login(c, accounts.hash_token(bearer(request) or ""))
    response.delete_cookie("coach_session")


@router.get("/api/me")
async def me(p: PersonDep) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "role": p.role, "teams": list(p.teams)}
