"""Settings, read once from the environment at start."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from surveys.fieldwork.outbox import ContactHours

TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")


LogLevel = Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"]
"""Python's logging levels by name (``logging.getLevelNamesMapping``, without the aliases)."""


class SettingsError(Exception):
    """A missing or malformed setting; its message is one line naming the setting."""


class Settings(BaseSettings):
    """Pejling's configuration. Every field is an environment variable of the same name."""

    # validate_assignment: a setting changed later (a test, the demo) is parsed like at start.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", validate_assignment=True
    )

    # A SecretStr: shown as ********** in any repr, log line or error; require_token reads it.
    bot_token: SecretStr | None = Field(
        default=None, description="Telegram bot token from BotFather"
    )
    database_url: str = "sqlite+aiosqlite:///pejling.db"
    telegram_api_url: str = "https://api.telegram.org"
    bot_username: str | None = Field(
        default=None, description="the bot's @username for invite links; asked of Telegram if unset"
    )
    municipality: str = "Kommunen"
    contact: str = Field(default="", description="whom to contact, shown in the information text")
    retention_months: int = Field(default=13, ge=1, le=120)
    invite_ttl_days: int = Field(default=60, ge=1, le=365)
    send_rate: float = Field(default=30.0, gt=0, le=1000)
    sender_interval_seconds: float = Field(default=5.0, gt=0)
    sender_lease_seconds: float = Field(default=30.0, gt=0)
    # NoDecode: the environment's "09-19" goes to the validator below as it is, not as JSON.
    contact_hours: Annotated[ContactHours, NoDecode] = Field(
        default=ContactHours(9, 19), description="HH-HH, Danish time; 00-24 = always"
    )
    webhook_url: str | None = Field(default=None, description="public HTTPS URL for webhook mode")
    webhook_secret: str | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = Field(
        default=None,
        description="the web pages' public address (https://...), printed in every letter",
    )
    link_secret: SecretStr | None = Field(
        default=None,
        description="server secret the letters' links and codes are derived from; keep it",
    )
    log_level: LogLevel = "INFO"
    log_format: str = Field(default="text", pattern="^(text|json)$")
    health_port: int = Field(default=8081, ge=0, le=65535, description="0 turns /healthz off")
    web_port: int = Field(default=8082, ge=0, le=65535, description="the web pages; 0 = off")
    web_session_secret: SecretStr | None = Field(
        default=None, description="encrypts the web pages' session cookie (32+ characters)"
    )
    web_trust_proxy: bool = Field(
        default=False,
        description="count code attempts by the last X-Forwarded-For address (behind a proxy)",
    )

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not (
            value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")
        ):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (an async driver)"
            )
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org")
        return value.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", value):
            raise ValueError("must be an http(s) address such as https://pejling.kommune.dk")
        return value.rstrip("/")

    @field_validator("link_secret")
    @classmethod
    def _link_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 32:
            raise ValueError("use at least 32 random characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("web_session_secret")
    @classmethod
    def _session_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 32:
            raise ValueError("use at least 32 random characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("contact_hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        """'09-19' -> 09:00 to 19:00, Danish time; '00-24' means always. Parsed here, once."""
        if not isinstance(value, str):
            return value
        if not re.match(r"^\d{2}-\d{2}$", value):
            raise ValueError("use HH-HH, for example 09-19 (or 00-24 for always)")
        start, end = int(value[:2]), int(value[3:])
        if not 0 <= start < end <= 24:
            raise ValueError("the start must come before the end, within 00-24")
        return ContactHours(start, end)

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_name(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value and not re.match(r"^[A-Za-z0-9_-]{16,256}$", value):
            raise ValueError("use 16-256 characters of A-Z, a-z, 0-9, _ and -")
        return value or None

    @field_validator("bot_token", mode="before")
    @classmethod
    def _token_shape(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not value:
            return None
        if not isinstance(value, str) or not TOKEN_PATTERN.match(value):
            raise ValueError("does not look like a bot token from BotFather (digits:letters)")
        return value

    @property
    def invite_ttl(self) -> timedelta:
        return timedelta(days=self.invite_ttl_days)

    def require_letter_links(self) -> tuple[str, bytes]:
        """PUBLIC_URL and LINK_SECRET, which every letter needs, or a SettingsError."""
        if not self.public_url:
            raise SettingsError(
                "PUBLIC_URL is not set: the web pages' public address is printed in every letter"
            )
        if self.link_secret is None:
            raise SettingsError(
                "LINK_SECRET is not set: letters' links are derived from it "
                "(set it once, e.g. `openssl rand -hex 32`, and keep it)"
            )
        return self.public_url, self.link_secret.get_secret_value().encode()

    def require_web_secret(self) -> str:
        """The web pages' session secret, or a SettingsError naming WEB_SESSION_SECRET."""
        if self.web_session_secret is None:
            raise SettingsError(
                "WEB_SESSION_SECRET is not set: the web pages' session cookie is encrypted "
                "with it (32 or more random characters, e.g. `openssl rand -hex 32`)"
            )
        return self.web_session_secret.get_secret_value()

    def require_token(self) -> str:
        """The bot token, or a SettingsError naming BOT_TOKEN."""
        if self.bot_token is None:
            raise SettingsError("BOT_TOKEN is not set: get a token from @BotFather and set it")
        return self.bot_token.get_secret_value()


def load_settings() -> Settings:
    """Read the settings, turning validation errors into one line naming the setting."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "setting"
        text = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {text}") from None
