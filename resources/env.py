"""Environment variables into resources, validated once when the definitions load.

A resource field set from the environment holds a ``dg.EnvVar`` (a ``str`` holding the variable's
NAME), or a ``dg.EnvVar.int``. Pydantic's field validators would see that name, not the value, so
:class:`EnvValidatedResource` validates the resource a first time with every such field replaced by
the variable's current value (the same types and field validators as a literal), maps any error to
the variable (``RECON_SMTP_TLS='tls': …``), and then keeps the ``EnvVar`` itself in the field: the
UI shows where the value comes from and Dagster resolves it again when the run sets the resource up
(``_with_updated_values`` rebuilds the resource from the resolved values, so the field validators
run on real values there too).

Floats (Dagster has no float ``EnvVar``) and values that shape the definitions themselves (the
deadlines) are read when the definitions load, as :class:`EnvValue`: a ``str`` that remembers its
variable, so its errors name it the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from pydantic import ValidationError, model_validator

SECRET_HINTS = ("password", "secret", "webhook", "db_url", "token")


class ConfigurationError(Exception):
    """One or more ``RECON_*`` variables hold invalid values; each problem names its variable."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("configuração inválida:\n" + "\n".join(f"  - {p}" for p in self.problems))


class EnvValue(str):
    """A value read from ``env_var_name`` when the definitions load (not deferred like ``EnvVar``)."""

    env_var_name: str

    def __new__(cls, value: str, env_var_name: str) -> EnvValue:
        obj = super().__new__(cls, value)
        obj.env_var_name = env_var_name
        return obj


def env_var_name(value: Any) -> str | None:
    """The variable behind ``value`` (``EnvVar``, ``EnvVar.int`` or :class:`EnvValue`), else None."""
    if isinstance(value, (dg.EnvVar, EnvValue)):
        return value.env_var_name
    if isinstance(value, int) and type(value).__name__ == "IntEnvVar":
        return value.env_var_name  # type: ignore[attr-defined]
    return None


def env_or(name: str, default: Any) -> Any:
    """``EnvVar(name)`` when the variable is set, else ``default``.

    Dagster refuses an unset ``EnvVar``; this keeps the embedded default (no environment at all)
    working while the UI still shows which values come from the environment.
    """
    return dg.EnvVar(name) if os.environ.get(name) else default


def env_int_or(name: str, default: int) -> Any:
    return dg.EnvVar.int(name) if os.environ.get(name) else default


def env_value_or(name: str, default: Any) -> Any:
    """The variable's value now (an :class:`EnvValue`) when set, else ``default``: for float fields."""
    raw = os.environ.get(name)
    return EnvValue(raw, name) if raw else default


def _is_secret(field: str) -> bool:
    return any(hint in field for hint in SECRET_HINTS)


PARSE_MESSAGES = {
    "int_parsing": "não é um número inteiro (use, por exemplo, 10)",
    "int_from_float": "não é um número inteiro (use, por exemplo, 10)",
    "float_parsing": "não é um número (use ponto decimal, por exemplo, 0.05)",
    "bool_parsing": "use true ou false",
}


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") in PARSE_MESSAGES:
        return PARSE_MESSAGES[error["type"]]
    return str(error.get("msg", "")).removeprefix("Value error, ")


class EnvValidatedResource(dg.ConfigurableResource):
    """Base of the project's resources: values from the environment are validated, not their names."""

    @model_validator(mode="wrap")
    @classmethod
    def _validate_environment_values(cls, data: Any, handler: Any) -> Any:
        if not isinstance(data, dict):
            return handler(data)
        from_env = {k: env_var_name(v) for k, v in data.items() if env_var_name(v)}
        if not from_env:
            return handler(data)
        resolved = dict(data)
        raw_values: dict[str, str | None] = {}
        for field, name in from_env.items():
            value = data[field]
            raw = str.__str__(value) if isinstance(value, EnvValue) else os.environ.get(str(name))
            raw_values[field] = raw
            if raw is None:
                resolved.pop(field)  # unset: Dagster names it when it resolves the EnvVar
            else:
                resolved[field] = raw
        try:
            model = handler(resolved)
        except ValidationError as exc:
            problems, others = [], []
            for error in exc.errors():
                field = str(error["loc"][0]) if error.get("loc") else ""
                if field in from_env:
                    raw = raw_values[field]
                    shown = "***" if _is_secret(field) else repr(raw)
                    problems.append(f"{from_env[field]}={shown}: {_message(error)}")
                else:
                    others.append(error)
            if problems and not others:
                raise ConfigurationError(problems) from None
            raise
        for field, value in data.items():
            if field in from_env and not isinstance(value, EnvValue):
                # Keep the EnvVar: the UI shows it, Dagster resolves it again at set-up (and says so
                # there if the variable is unset).
                object.__setattr__(model, field, value)
        return model


def collect_configuration_errors(builders: dict[str, Any]) -> dict[str, Any]:
    """Call every ``name -> builder()`` and raise one :class:`ConfigurationError` listing all problems."""
    built: dict[str, Any] = {}
    problems: list[str] = []
    for key, builder in builders.items():
        try:
            built[key] = builder()
        except ConfigurationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigurationError(problems)
    return built
