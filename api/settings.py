"""The one typed Settings object, read from the environment (prefix SHENBAO_) and passed in everywhere."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    """Every knob of a Shenbao deployment; nothing else reads os.environ."""

    model_config = SettingsConfigDict(env_prefix="SHENBAO_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path('var/shenbao.db').resolve()}")
    public_url: str = "http://127.0.0.1:8000"
    # WeChat and SMS messages the database did not take before the platform's deadline wait here (encrypted,
    # one file each) until the background jobs store them (bot/spool.py); keep it on a local, durable disk
    spool_dir: Path = Field(default_factory=lambda: Path("var/spool").resolve())
    secret_key: str = PLACEHOLDER_SECRET

    telegram_bot_token: str | None = None
    telegram_secret_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"

    wechat_token: str | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_aes_key: str | None = None
    wechat_api_url: str = "https://api.weixin.qq.com"

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None

    web_simulator: bool = True
    locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    dialogue_ttl_minutes: int = 60 * 24
    access_token_minutes: int = 60 * 8
    login_max_failures: int = 5  # failed staff logins per username (or 4x per client) in the window -> 429
    login_window_minutes: int = 15
    # no texts to staff in these hours (Beijing time; "21:00" in the environment); held till they end
    sms_quiet_start: time = time(21, 0)
    sms_quiet_end: time = time(8, 0)
    escalation_margin_days: int = 2
    digest_at: time = time(8, 0)  # the cadres' daily digest, Beijing time
    reminder_interval_seconds: float = 300.0  # how often `worker` / `serve` run the reminder rules
    dispatcher_interval_seconds: float = 1.0
    run_dispatcher: bool = True
    # PostgreSQL: the webhooks' requests whose database work runs at once on the event loop (each holds a
    # pooled connection while it does; the rest wait their turn in arrival order). Measured, SMS webhook at
    # saturation: 4 -> 440 messages a second, 8 -> 470-510, 12 -> 440; unbounded, the 32 households of the
    # bench opened connections past the pool's 12 and closed them again, 320-340 a second
    db_in_flight: int = Field(default=8, ge=1, le=64)
    # The threads for requests' database work where it cannot run on the loop: SQLite while another process
    # writes, PostgreSQL outside `serve` (`shenbao chat`, `telegram-polling`). More only contend for the
    # GIL: with asyncio's default (6 on 2 cores) an SMS webhook message cost 4.3 ms of CPU, with 2 threads 3.5
    db_threads: int = Field(default=2, ge=1, le=64)
    # SQLite: the app's WAL is checkpointed by a thread this often, not inside requests' commits (0: by
    # SQLite's own rule, the commit that fills the WAL to 1,000 pages does it)
    sqlite_checkpoint_seconds: float = 1.0
    # uvicorn's line per request (the reverse proxy in front usually keeps that log already; writing it
    # costs about 3% of a webhook message's CPU)
    access_log: bool = False
    # FastAPI's native OpenTelemetry (spans, metrics, logs per request through the globally configured
    # providers); off, a request skips the check for providers (~1.7% of a webhook message's instructions)
    telemetry: bool = False

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment == "production" and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError("SHENBAO_SECRET_KEY must be set to a real secret in production")
        return self
