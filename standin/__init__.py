"""A local stand-in for the Telegram Bot API, for tests and offline demos.

Typical use in a test::

    async with BotAPIStandIn() as standin:
        bot = Bot(standin.token, session=AiohttpSession(api=standin.api_server))
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
        anna = standin.person(1001, "Anna")
        replies = await anna.send("/start")
        answer = await anna.press("Ja")
"""

from .errors import ApiError
from .formatting import EntityParseError, parse_formatted
from .models import (
    ApiCall,
    CallbackAnswer,
    ChatMessage,
    MessageRevision,
    StoredFile,
    UploadedFile,
)
from .person import Person
from .server import BotAPIStandIn

__all__ = [
    "ApiCall",
    "ApiError",
    "BotAPIStandIn",
    "CallbackAnswer",
    "ChatMessage",
    "EntityParseError",
    "MessageRevision",
    "Person",
    "StoredFile",
    "UploadedFile",
    "parse_formatted",
]
