"""The /_standin/ control endpoints: the other side of the conversation, driven over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .models import UploadedFile
from .person import Person

if TYPE_CHECKING:
    from .server import BotAPIStandIn

__all__ = ["control_routes"]


def control_routes(standin: BotAPIStandIn) -> list[web.RouteDef]:
    """The routes under ``/_standin/`` (see ``python -m standin`` for examples)."""
    endpoints = _ControlEndpoints(standin)
    return [
        web.post("/_standin/updates", endpoints.update),
        web.post("/_standin/send", endpoints.send),
        web.post("/_standin/press", endpoints.press),
        web.post("/_standin/delete", endpoints.delete),
        web.get("/_standin/chats/{chat_id}", endpoints.chat),
        web.get("/_standin/calls", endpoints.calls),
    ]


class _ControlEndpoints:
    def __init__(self, standin: BotAPIStandIn) -> None:
        self._standin = standin

    async def update(self, request: web.Request) -> web.Response:
        update = await request.json()
        return web.json_response({"ok": True, "update_id": self._standin.inject_update(update)})

    async def _person(self, request: web.Request) -> tuple[Person, dict[str, Any]]:
        body = await request.json()
        user_id = int(body["user_id"])
        known = self._standin.world.users.get(user_id, {})
        person = self._standin.person(
            user_id,
            first_name=str(body.get("first_name", known.get("first_name", "Test"))),
            language_code=body.get("language_code", known.get("language_code", "da")),
            username=body.get("username", known.get("username")),
        )
        return person, body

    async def send(self, request: web.Request) -> web.Response:
        person, body = await self._person(request)
        update_id = person.send_nowait(str(body["text"]))
        return web.json_response({"ok": True, "update_id": update_id})

    async def press(self, request: web.Request) -> web.Response:
        person, body = await self._person(request)
        try:
            callback_id = person.press_nowait(
                str(body["button"]),
                message_id=body.get("message_id"),
            )
        except AssertionError as error:
            return web.json_response({"ok": False, "description": str(error)}, status=400)
        return web.json_response({"ok": True, "callback_query_id": callback_id})

    async def delete(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self._standin.delete_by_person(int(body["chat_id"]), int(body["message_id"]))
        except KeyError as error:
            return web.json_response({"ok": False, "description": str(error)}, status=400)
        return web.json_response({"ok": True})

    async def chat(self, request: web.Request) -> web.Response:
        chat_id = int(request.match_info["chat_id"])
        messages = [
            {
                **self._standin.world.message_json(message),
                "from_bot": message.from_bot,
                "buttons": message.button_rows,
            }
            for message in self._standin.chat(chat_id)
        ]
        return web.json_response({"ok": True, "messages": messages})

    async def calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        calls = self._standin.calls_of(method) if method else self._standin.calls
        return web.json_response(
            {
                "ok": True,
                "calls": [
                    {
                        "method": call.method,
                        "status": call.status,
                        "description": call.description,
                        "params": {
                            key: value
                            for key, value in call.params.items()
                            if not isinstance(value, UploadedFile)
                        },
                    }
                    for call in calls
                ],
            },
        )
