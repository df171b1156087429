"""The team server's routes, one router per area; `create_app` includes them in this order."""

from fastapi import APIRouter

from coach.server import queries
from coach.server.deps import State
from coach.server.routes import admin, agent, auth, floor, pages, scorecards, segments

health_router = APIRouter()


@health_router.get("/api/health")
async def health(st: State) -> dict[str, str]:
    async with st.pool.connection() as c:
        await queries.ping(c)
    return {"status": "ok"}


ROUTERS = (auth.router, agent.router, floor.router, segments.router, admin.router, health_router, scorecards.router,
           pages.router)
