"""Reading the environment: django-environ, held to what the README documents.

The library casts values and parses `EMAIL_URL`; this adapter adds what the README promises and
the library does differently: an empty or blank variable counts as unset, values are taken
literally (no `$OTHER_VARIABLE` indirection), a boolean is one of 1/0, true/false, yes/no,
on/off (the library reads any other word as false), list items are stripped, `EMAIL_URL` keeps
its `console://` and `locmem://` schemes and its default ports, and a value that cannot be read
raises ImproperlyConfigured naming the variable and what it accepts.
"""

from typing import Any
from urllib.parse import ParseResult, urlparse

import environ
from django.core.exceptions import ImproperlyConfigured

BOOLEAN_TRUE = ("1", "true", "yes", "on")
BOOLEAN_FALSE = ("0", "false", "no", "off")

# The schemes the README documents, and django-environ's name for each.
EMAIL_SCHEMES = {
    "console": "consolemail",
    "locmem": "memorymail",
    "smtp": "smtp",
    "smtp+tls": "smtp+tls",
    "smtp+ssl": "smtp+ssl",
}
EMAIL_DEFAULT_PORTS = {"smtp": 25, "smtp+tls": 587, "smtp+ssl": 465}

# What each cast accepts, for the message that refuses a value.
ACCEPTED = {
    bool: "one of 1/0, true/false, yes/no, on/off",
    int: "an integer",
}


class Env(environ.Env):
    """django-environ's Env with the project's rules for empty, boolean, list and email values."""

    NOTSET = environ.Env.NOTSET

    def get_value(
        self, var: str, cast: Any = None, default: Any = NOTSET, parse_default: bool = False
    ) -> Any:
        """The stripped value of `var` cast by `cast`; `default` when it is unset or blank."""
        raw = self.ENVIRON.get(var, "").strip()
        if not raw:
            if default is self.NOTSET:
                raise ImproperlyConfigured(f"Set the {var} environment variable.")
            if parse_default and isinstance(default, str):
                return self.parse_value(default, cast)
            return default
        try:
            return self.parse_value(raw, cast)
        except ValueError as error:
            accepted = ACCEPTED.get(cast)
            if accepted is None:
                raise ImproperlyConfigured(f"{var} cannot be read: {error}; got {raw!r}.") from None
            raise ImproperlyConfigured(f"{var} must be {accepted}; got {raw!r}.") from None

    @classmethod
    def parse_value(cls, value: str, cast: Any) -> Any:
        """`value` cast by `cast`: booleans strictly, lists without blank items or padding."""
        if cast is bool:
            word = value.strip().lower()
            if word in BOOLEAN_TRUE:
                return True
            if word in BOOLEAN_FALSE:
                return False
            raise ValueError(f"{value!r} is not a boolean")
        if cast is list:
            return [item.strip() for item in value.split(",") if item.strip()]
        return super().parse_value(value, cast)

    @classmethod
    def email_url_config(cls, url: str | ParseResult, backend: str | None = None) -> dict[str, Any]:
        """Django's EMAIL_* settings for an EMAIL_URL.

        console:// and locmem:// pick those backends; smtp://[user:pass@]host[:port] sends in clear,
        smtp+tls:// with STARTTLS (default port 587), smtp+ssl:// over implicit TLS (port 465),
        smtp:// on port 25 by default. The user and password are percent-decoded.
        """
        parts = urlparse(url) if isinstance(url, str) else url
        scheme = parts.scheme.lower()
        if scheme not in EMAIL_SCHEMES:
            raise ImproperlyConfigured(
                f"EMAIL_URL scheme {scheme!r} is not supported; use one of "
                f"{', '.join(sorted(EMAIL_SCHEMES))} (for example smtp://localhost:1025)."
            )
        port = 25
        if scheme in EMAIL_DEFAULT_PORTS:
            if not parts.hostname:
                raise ImproperlyConfigured(
                    f"EMAIL_URL names no host; write {scheme}://host:port "
                    f"(for example {scheme}://localhost:1025)."
                )
            try:
                port = parts.port or EMAIL_DEFAULT_PORTS[scheme]
            except ValueError:
                raise ImproperlyConfigured(
                    "EMAIL_URL has a port that is not a number from 1 to 65535."
                ) from None
        config = super().email_url_config(parts._replace(scheme=EMAIL_SCHEMES[scheme]), backend)
        return {
            "EMAIL_BACKEND": config["EMAIL_BACKEND"],
            "EMAIL_HOST": config["EMAIL_HOST"] or "localhost",
            "EMAIL_PORT": port,
            "EMAIL_HOST_USER": config["EMAIL_HOST_USER"] or "",
            "EMAIL_HOST_PASSWORD": config["EMAIL_HOST_PASSWORD"] or "",
            "EMAIL_USE_TLS": scheme == "smtp+tls",
            "EMAIL_USE_SSL": scheme == "smtp+ssl",
        }
