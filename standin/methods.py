"""The Bot API methods the bot uses, checked against the world the way Telegram checks them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, Final

from .errors import (
    ERR_BAD_FILE,
    ERR_BLOCKED,
    ERR_BUTTON_DATA,
    ERR_CALLBACK_ANSWER_TOO_LONG,
    ERR_CANT_EDIT,
    ERR_CAPTION_TOO_LONG,
    ERR_CHAT_ACTION,
    ERR_CHAT_ID_EMPTY,
    ERR_CHAT_NOT_FOUND,
    ERR_COMMAND,
    ERR_COMMAND_DESCRIPTION,
    ERR_COMMAND_DESCRIPTION_EMPTY,
    ERR_DELETE_NOT_FOUND,
    ERR_EDIT_NOT_FOUND,
    ERR_EMPTY_FILE,
    ERR_FILE_TOO_BIG,
    ERR_MARKUP,
    ERR_MARKUP_TOO_LONG,
    ERR_MESSAGE_ID_INVALID,
    ERR_NO_TEXT,
    ERR_NOT_MODIFIED,
    ERR_POLL_CONFLICT,
    ERR_QUERY_INVALID,
    ERR_TEXT_BUTTONS,
    ERR_TEXT_EMPTY,
    ERR_TOO_LONG,
    ERR_WEBHOOK_ACTIVE,
    ApiError,
    err_entities,
    err_no_file,
)
from .formatting import EntityParseError, parse_formatted
from .models import ChatMessage, StoredFile, UploadedFile
from .params import Params, as_int
from .world import CommandsKey, World, inline_part

__all__ = ["MAX_UPLOAD_BYTES", "BotAPIMethods", "Handler"]

Handler = Callable[[Params], Awaitable[Any]]

# Telegram's limits, from the Bot API reference (https://core.telegram.org/bots/api):
# sendMessage text 1-4096 characters after entity parsing, caption 0-1024,
# callback_data 1-64 bytes, answerCallbackQuery text 0-200 characters.
# Text length counts characters (code points), not UTF-16 units: measured against the
# real API with astral emoji in FerroxLabs/wayland#934 (4096 accepted, 4097 refused).
MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_CALLBACK_ANSWER_LENGTH: Final = 200
# Not in the reference, but what Telegram enforces on an inline keyboard: at most 100
# buttons (eternnoir/pyTelegramBotAPI#511, tginfo/Telegram-Limits#228).
MAX_INLINE_BUTTONS: Final = 100
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024
MAX_POLL_TIMEOUT: Final = 50  # seconds; Telegram does not hold a long poll much longer

_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")


class BotAPIMethods:
    """One handler per Bot API method: validate as Telegram does, then change the world.

    A handler takes the decoded parameters and returns the ``result`` of Telegram's answer,
    or raises :class:`ApiError` with Telegram's status and text.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        #: Set while the server shuts down: waiting long polls end with no updates.
        self.closing = False
        self._poll_generation = 0
        #: getUpdates long polls waiting right now.
        self.waiting_polls = 0
        self.handlers: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in self._method_table().items()
        }

    def find(self, method: str) -> tuple[str, Handler] | None:
        """The method's proper name and handler (names are case-insensitive), or None."""
        return self.handlers.get(method.lower())

    def _method_table(self) -> dict[str, Handler]:
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "logOut": self._true,
            "close": self._true,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendChatAction": self._send_chat_action,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "setMyDescription": self._bot_text_setter("description"),
            "getMyDescription": self._bot_text_getter("description"),
            "setMyShortDescription": self._bot_text_setter("short_description"),
            "getMyShortDescription": self._bot_text_getter("short_description"),
            "setMyName": self._bot_text_setter("name"),
            "getMyName": self._bot_text_getter("name"),
        }

    # ------------------------------------------------------------------ the bot and updates

    async def _true(self, params: Params) -> bool:
        return True

    async def _get_me(self, params: Params) -> dict[str, Any]:
        return {
            **self.world.bot_user,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        world = self.world
        if world.webhook_url:
            raise ApiError(409, ERR_WEBHOOK_ACTIVE)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            world.allowed_updates = [str(kind) for kind in allowed]
        offset = as_int(params.get("offset"))
        if offset is not None and offset > 0:
            # Acknowledge: everything below the offset is forgotten for good.
            world.pending = [u for u in world.pending if u["update_id"] >= offset]
        elif offset is not None and offset < 0:
            world.pending = world.pending[offset:]
        limit = min(max(as_int(params.get("limit")) or 100, 1), 100)
        timeout = min(max(as_int(params.get("timeout")) or 0, 0), MAX_POLL_TIMEOUT)

        # A newer getUpdates ends an older one with 409, as in Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self.waiting_polls += 1
        world.notify()
        try:
            await world.wait(
                lambda: self.closing or generation != self._poll_generation or world.has_updates(),
                timeout,
            )
        finally:
            self.waiting_polls -= 1
        if generation != self._poll_generation:
            raise ApiError(409, ERR_POLL_CONFLICT)
        if self.closing or not world.has_updates():
            return []
        # Replays first: aiogram moves its offset to the last update_id + 1 of a batch, so
        # the replayed (older) id must not come last.
        batch = world.replays[:limit]
        world.replays = world.replays[limit:]
        batch += world.pending[: limit - len(batch)]
        world.deliveries.extend(int(u["update_id"]) for u in batch)
        return batch

    async def _set_webhook(self, params: Params) -> bool:
        world = self.world
        url = params.get("url")
        world.webhook_url = url if isinstance(url, str) else ""
        secret = params.get("secret_token")
        world.webhook_secret_token = secret if isinstance(secret, str) else None
        world.webhook_max_connections = as_int(params.get("max_connections")) or 40
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            world.allowed_updates = [str(kind) for kind in allowed]
        if params.get("drop_pending_updates") is True:
            world.pending.clear()
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        world = self.world
        world.webhook_url = ""
        world.webhook_secret_token = None
        if params.get("drop_pending_updates") is True:
            world.pending.clear()
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        world = self.world
        info: dict[str, Any] = {
            "url": world.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(world.pending),
        }
        if world.allowed_updates:
            info["allowed_updates"] = list(world.allowed_updates)
        return info

    # ------------------------------------------------------------------ messages

    async def _send_message(self, params: Params) -> dict[str, Any]:
        chat_id = self._reachable_chat(params)
        text, entities = self._text(params)
        markup = self._markup(params.get("reply_markup"))
        message = self.world.add_bot_message(
            chat_id,
            text=text,
            entities=entities,
            reply_markup=markup,
            parse_mode=params.get("parse_mode"),
        )
        return self.world.message_json(message)

    async def _edit_message_text(self, params: Params) -> dict[str, Any]:
        message = self._editable(params)
        if message.text is None:
            raise ApiError(400, ERR_NO_TEXT)
        text, entities = self._text(params)
        new_markup = self._markup(params.get("reply_markup"))
        # Without reply_markup Telegram drops the inline keyboard; a reply keyboard is a
        # property of the chat and stays.
        stored = new_markup
        if stored is None and inline_part(message.reply_markup) is None:
            stored = message.reply_markup
        if (text, entities, inline_part(new_markup)) == (
            message.text,
            message.entities,
            inline_part(message.reply_markup),
        ):
            raise ApiError(400, ERR_NOT_MODIFIED)
        message.parse_mode = params.get("parse_mode")
        self.world.edit_message(message, text=text, entities=entities, reply_markup=stored)
        return self.world.message_json(message)

    async def _edit_message_reply_markup(self, params: Params) -> dict[str, Any]:
        message = self._editable(params)
        new_markup = self._markup(params.get("reply_markup"))
        if inline_part(new_markup) == inline_part(message.reply_markup):
            raise ApiError(400, ERR_NOT_MODIFIED)
        self.world.edit_message(
            message,
            text=message.text,
            entities=message.entities,
            reply_markup=new_markup,
        )
        return self.world.message_json(message)

    async def _delete_message(self, params: Params) -> bool:
        chat_id = self._chat_id(params)
        message_id = as_int(params.get("message_id"))
        message = self.world.message(chat_id, message_id) if message_id is not None else None
        if message is None or message.deleted:
            raise ApiError(400, ERR_DELETE_NOT_FOUND)
        message.deleted = True
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        callback_id = str(params.get("callback_query_id", ""))
        if callback_id not in self.world.open_callbacks:
            # Unknown, or already answered: Telegram accepts one answer per query.
            raise ApiError(400, ERR_QUERY_INVALID)
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise ApiError(400, ERR_CALLBACK_ANSWER_TOO_LONG)
        self.world.open_callbacks.discard(callback_id)
        return True

    async def _send_chat_action(self, params: Params) -> bool:
        self._reachable_chat(params)
        if not isinstance(params.get("action"), str):
            raise ApiError(400, ERR_CHAT_ACTION)
        return True

    async def _send_media(self, params: Params, kind: str) -> dict[str, Any]:
        chat_id = self._reachable_chat(params)
        stored = self._store_file(params.get(kind), kind)
        caption, caption_entities = self._caption(params)
        markup = self._markup(params.get("reply_markup"))
        message = self.world.add_bot_message(
            chat_id,
            kind=kind,
            caption=caption,
            caption_entities=caption_entities,
            reply_markup=markup,
            parse_mode=params.get("parse_mode"),
            **{kind: stored},
        )
        return self.world.message_json(message)

    async def _send_document(self, params: Params) -> dict[str, Any]:
        return await self._send_media(params, "document")

    async def _send_photo(self, params: Params) -> dict[str, Any]:
        return await self._send_media(params, "photo")

    # ------------------------------------------------------------------ the bot's settings

    @staticmethod
    def _commands_key(params: Params) -> CommandsKey:
        scope = params.get("scope")
        if not isinstance(scope, dict):
            scope = {"type": "default"}
        language = params.get("language_code")
        return (
            str(scope.get("type", "default")),
            as_int(scope.get("chat_id")),
            as_int(scope.get("user_id")),
            language if isinstance(language, str) else "",
        )

    async def _set_my_commands(self, params: Params) -> bool:
        # BotCommand: command 1-32 of a-z, 0-9 and _, description 1-256 characters, at
        # most 100 commands; a bad command gets "BOT_COMMAND_INVALID"
        # (tdlib/telegram-bot-api#98, yagop/node-telegram-bot-api#1008).
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, ERR_COMMAND)
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", "")),
            ):
                raise ApiError(400, ERR_COMMAND)
            description = command.get("description")
            if not isinstance(description, str) or not description:
                raise ApiError(400, ERR_COMMAND_DESCRIPTION_EMPTY)
            if len(description) > 256:
                raise ApiError(400, ERR_COMMAND_DESCRIPTION)
        key = self._commands_key(params)
        if commands:
            self.world.commands[key] = [dict(command) for command in commands]
        else:
            self.world.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: Params) -> list[dict[str, Any]]:
        stored = self.world.commands.get(self._commands_key(params), [])
        return [dict(command) for command in stored]

    async def _delete_my_commands(self, params: Params) -> bool:
        self.world.commands.pop(self._commands_key(params), None)
        return True

    async def _set_chat_menu_button(self, params: Params) -> bool:
        chat_id = as_int(params.get("chat_id")) if params.get("chat_id") else None
        button = params.get("menu_button")
        self.world.menu_buttons[chat_id] = (
            button if isinstance(button, dict) else {"type": "default"}
        )
        return True

    async def _get_chat_menu_button(self, params: Params) -> dict[str, Any]:
        chat_id = as_int(params.get("chat_id")) if params.get("chat_id") else None
        return self.world.menu_buttons.get(chat_id) or {"type": "default"}

    def _bot_text_setter(self, kind: str) -> Handler:
        async def handler(params: Params) -> bool:
            language = params.get("language_code")
            key = (kind, language if isinstance(language, str) else "")
            value = params.get(kind)
            if isinstance(value, str) and value:
                self.world.bot_texts[key] = value
            else:
                self.world.bot_texts.pop(key, None)
            return True

        return handler

    def _bot_text_getter(self, kind: str) -> Handler:
        async def handler(params: Params) -> dict[str, str]:
            language = params.get("language_code")
            key = (kind, language if isinstance(language, str) else "")
            fallback = self.world.bot_user["first_name"] if kind == "name" else ""
            return {kind: self.world.bot_texts.get(key, fallback)}

        return handler

    # ------------------------------------------------------------------ shared checks

    @staticmethod
    def _chat_id(params: Params) -> int:
        if params.get("chat_id") in (None, ""):
            raise ApiError(400, ERR_CHAT_ID_EMPTY)
        chat_id = as_int(params["chat_id"])
        if chat_id is None:
            raise ApiError(400, ERR_CHAT_NOT_FOUND)
        return chat_id

    def _reachable_chat(self, params: Params) -> int:
        chat_id = self._chat_id(params)
        if chat_id not in self.world.known_chats:
            raise ApiError(400, ERR_CHAT_NOT_FOUND)
        if chat_id in self.world.blocked:
            raise ApiError(403, ERR_BLOCKED)
        return chat_id

    def _editable(self, params: Params) -> ChatMessage:
        if params.get("inline_message_id"):
            raise ApiError(400, ERR_MESSAGE_ID_INVALID)
        chat_id = self._chat_id(params)
        message_id = as_int(params.get("message_id"))
        message = self.world.message(chat_id, message_id) if message_id is not None else None
        if message is None or message.deleted:
            raise ApiError(400, ERR_EDIT_NOT_FOUND)
        if not message.from_bot or not message.editable:
            raise ApiError(400, ERR_CANT_EDIT)
        return message

    @staticmethod
    def _format(
        text: str,
        parse_mode: Any,
        entities: Any,
    ) -> tuple[str, list[dict[str, Any]]]:
        try:
            return parse_formatted(
                text,
                parse_mode if isinstance(parse_mode, str) else None,
                entities if isinstance(entities, list) else None,
            )
        except EntityParseError as error:
            raise ApiError(400, err_entities(error)) from error

    def _text(self, params: Params) -> tuple[str, list[dict[str, Any]]]:
        text = params.get("text")
        if not isinstance(text, str):
            raise ApiError(400, ERR_TEXT_EMPTY)
        plain, entities = self._format(text, params.get("parse_mode"), params.get("entities"))
        if not plain:
            raise ApiError(400, ERR_TEXT_EMPTY)
        if len(plain) > MAX_TEXT_LENGTH:
            raise ApiError(400, ERR_TOO_LONG)
        return plain, entities

    def _caption(self, params: Params) -> tuple[str | None, list[dict[str, Any]]]:
        caption = params.get("caption")
        if not isinstance(caption, str) or not caption:
            return None, []
        plain, entities = self._format(
            caption,
            params.get("parse_mode"),
            params.get("caption_entities"),
        )
        if len(plain) > MAX_CAPTION_LENGTH:
            raise ApiError(400, ERR_CAPTION_TOO_LONG)
        return plain or None, entities

    @staticmethod
    def _markup(value: Any) -> dict[str, Any] | None:
        """Validate reply_markup the way Telegram does for the parts tests care about."""
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            raise ApiError(400, ERR_MARKUP)
        if "inline_keyboard" not in value:
            return value
        rows = value["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, ERR_MARKUP)
        if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise ApiError(400, ERR_MARKUP_TOO_LONG)
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise ApiError(400, ERR_MARKUP)
                if "callback_data" in button:
                    data = button["callback_data"]
                    # Telegram counts bytes, so "ø" counts twice.
                    size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                    if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                        raise ApiError(400, ERR_BUTTON_DATA)
                elif len(button) == 1:
                    raise ApiError(400, ERR_TEXT_BUTTONS)
        return value

    def _store_file(self, value: Any, kind: str) -> StoredFile:
        if isinstance(value, UploadedFile):
            if not value.data:
                raise ApiError(400, ERR_EMPTY_FILE)
            if len(value.data) > MAX_UPLOAD_BYTES:
                raise ApiError(413, ERR_FILE_TOO_BIG)
            return self.world.register_file(value.filename, value.data, value.content_type, kind)
        if isinstance(value, str) and value in self.world.files:
            return self.world.files[value]  # re-sending by file_id, as bots do with cached ids
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            # There is no internet here, so the content stays unknown.
            return self.world.register_file(value.rsplit("/", 1)[-1] or None, b"", None, kind)
        if value is None or value == "":
            raise ApiError(400, err_no_file(kind))
        raise ApiError(400, ERR_BAD_FILE)
