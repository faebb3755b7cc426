from datetime import datetime
from typing import Any, Literal

from ninja import Field, Router, Schema, Status

from serviceloop.accounts import queries, services
from serviceloop.accounts.models import ApiToken, Team, User
from serviceloop.api import READ_AUTH, WRITE_AUTH, AgentRequest, ErrorOut

router = Router(tags=["agents and teams"])


class AgentOut(Schema):
    id: int
    username: str
    name: str
    email: str
    role: str
    skills: list[str]
    capacity: int
    is_away: bool
    is_active: bool
    time_zone: str
    teams: list[int]


def agent_out(agent: User) -> dict[str, Any]:
    return {
        "id": agent.pk,
        "username": agent.username,
        "name": agent.display_name,
        "email": agent.email,
        "role": agent.role,
        "skills": sorted(s.name for s in agent.skills.all()),
        "capacity": agent.capacity,
        "is_away": agent.is_away,
        "is_active": agent.is_active,
        "time_zone": agent.time_zone,
        "teams": sorted(t.pk for t in agent.teams.all()),
    }


@router.get("/agents", response={200: list[AgentOut]}, auth=READ_AUTH)
def list_agents(request: AgentRequest) -> list[dict[str, Any]]:
    return [agent_out(a) for a in queries.active_agents()]


@router.get("/agents/me", response={200: AgentOut}, auth=READ_AUTH)
def me(request: AgentRequest) -> dict[str, Any]:
    return agent_out(request.auth)


@router.get("/agents/{agent_id}", response={200: AgentOut, 404: ErrorOut}, auth=READ_AUTH)
def get_agent(request: AgentRequest, agent_id: int) -> dict[str, Any]:
    return agent_out(queries.agent_by_id(agent_id))


class AgentIn(Schema):
    username: str = Field(..., max_length=150)
    email: str = Field("", max_length=254)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    role: Literal["admin", "supervisor", "agent", "contributor"] = "agent"
    capacity: int = Field(20, ge=0, le=1000)
    skills: list[str] = []


@router.post(
    "/agents",
    response={201: AgentOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def create_agent(request: AgentRequest, payload: AgentIn) -> Status[dict[str, Any]]:
    agent = services.create_agent(actor=request.auth, **payload.dict())
    return Status(201, agent_out(agent))


class AgentPatch(Schema):
    role: Literal["admin", "supervisor", "agent", "contributor"] | None = None
    capacity: int | None = Field(None, ge=0, le=1000)
    skills: list[str] | None = None
    is_active: bool | None = None
    first_name: str | None = Field(None, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    email: str | None = Field(None, max_length=254)


@router.patch(
    "/agents/{agent_id}",
    response={200: AgentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def update_agent(request: AgentRequest, agent_id: int, payload: AgentPatch) -> dict[str, Any]:
    agent = services.update_agent(
        actor=request.auth,
        agent_id=agent_id,
        **payload.dict(exclude_unset=True),
    )
    return agent_out(agent)


class AwayIn(Schema):
    is_away: bool


@router.post("/agents/me/away", response={200: AgentOut}, auth=WRITE_AUTH)
def set_away(request: AgentRequest, payload: AwayIn) -> dict[str, Any]:
    return agent_out(services.set_away(agent=request.auth, is_away=payload.is_away))


class TeamOut(Schema):
    id: int
    name: str
    description: str
    routing: str
    members: list[int]


def team_out(team: Team) -> dict[str, Any]:
    return {
        "id": team.pk,
        "name": team.name,
        "description": team.description,
        "routing": team.routing,
        "members": sorted(m.pk for m in team.members.all()),
    }


@router.get("/teams", response={200: list[TeamOut]}, auth=READ_AUTH)
def list_teams(request: AgentRequest) -> list[dict[str, Any]]:
    return [team_out(t) for t in Team.objects.prefetch_related("members")]


@router.get("/teams/{team_id}", response={200: TeamOut, 404: ErrorOut}, auth=READ_AUTH)
def get_team(request: AgentRequest, team_id: int) -> dict[str, Any]:
    return team_out(queries.team_by_id(team_id))


class TeamIn(Schema):
    name: str = Field(..., max_length=100)
    description: str = ""
    routing: Literal["manual", "round_robin", "least_loaded"] = "manual"
    members: list[int] = []


@router.post(
    "/teams", response={201: TeamOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut}, auth=WRITE_AUTH
)
def create_team(request: AgentRequest, payload: TeamIn) -> Status[dict[str, Any]]:
    team = services.create_team(
        actor=request.auth,
        name=payload.name,
        description=payload.description,
        routing=payload.routing,
        member_ids=payload.members,
    )
    return Status(201, team_out(team))


class TeamPatch(Schema):
    name: str | None = Field(None, max_length=100)
    description: str | None = None
    routing: Literal["manual", "round_robin", "least_loaded"] | None = None
    members: list[int] | None = None


@router.patch(
    "/teams/{team_id}",
    response={200: TeamOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def update_team(request: AgentRequest, team_id: int, payload: TeamPatch) -> dict[str, Any]:
    team = services.update_team(
        actor=request.auth,
        team_id=team_id,
        name=payload.name,
        description=payload.description,
        routing=payload.routing,
        member_ids=payload.members,
    )
    return team_out(team)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(..., description="The secret; shown only in this response")


class TokenIn(Schema):
    name: str = Field("", max_length=100)
    scope: Literal["read", "write"] = "read"


@router.get("/tokens", response={200: list[TokenOut]}, auth=READ_AUTH, tags=["api tokens"])
def list_tokens(request: AgentRequest) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=request.auth))


@router.post(
    "/tokens", response={201: NewTokenOut, 400: ErrorOut}, auth=WRITE_AUTH, tags=["api tokens"]
)
def create_token(request: AgentRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    token, key = services.create_api_token(
        owner=request.auth,
        scope=payload.scope,
        name=payload.name,
    )
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": key})


@router.delete(
    "/tokens/{token_id}",
    response={200: TokenOut, 404: ErrorOut},
    auth=WRITE_AUTH,
    tags=["api tokens"],
)
def revoke_token(request: AgentRequest, token_id: int) -> ApiToken:
    return services.revoke_api_token(actor=request.auth, token_id=token_id)
