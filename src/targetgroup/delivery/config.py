"""The delivery file: where each night's results go (docs/delivery.md).

`load_delivery(path, sources)` reads a YAML file like

    folders: {BUF: /srv/share/buf/maalgruppe, JOB: {path: /srv/share/job, group: job-staff,
                                                     shown_as: 'S:/job/maalgruppe'}}
    systems: {Momentum: /srv/integration/momentum/inbox}
    keep_nights: 30
    file_mode: "0640"
    mail: {host: ..., port: 587, security: starttls, from: ..., username: {env: VAR},
           password: {file: /etc/targetgroup/smtp}, departments: {BUF: [a@b.dk]},
           caseworkers: {file: caseworkers.csv}, operations: [drift@b.dk], operations_summary: true}

into a `DeliveryConfig`, checked against the sources file (`SourcesConfig`): departments and
systems must be declared there, folders must exist and be writable, `security: none` is only
allowed to a loopback host, every secret must be found, every address must be one. Errors are
`ConfigError`s naming the file, the key and its line, never a secret's value.

Secrets (`{env: NAME}` or `{file: PATH}`) are `Secret` objects: their repr and str never show
the value, which is read (`Secret.value()`) only when the mail is sent.
"""

from __future__ import annotations

import csv
import grp
import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from targetgroup.config import SourcesConfig
from targetgroup.errors import ConfigError
from targetgroup.limits import MAX_CODE, MAX_LIST_BYTES, MAX_PATH, check_size, name_problem
from targetgroup.yamlsource import KeyPath, dotted, line_of, load_yaml

ENV = "TARGETGROUP_DELIVERY"
ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _address(value: str) -> str:
    if len(value) > 254 or not ADDRESS.match(value):
        raise ValueError("is not an e-mail address (name@example.dk)")
    return value


def _text(max_len: int):
    def check(value: str) -> str:
        problem = name_problem(value, max_len)
        if problem:
            raise ValueError(f"the value {problem}")
        return value
    return AfterValidator(check)


Address = Annotated[str, AfterValidator(_address)]
PathText = Annotated[str, _text(MAX_PATH)]
Code = Annotated[str, _text(MAX_CODE)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(_Strict):
    """A secret named by where it is: an environment variable or a file (first line)."""

    env: Code | None = None
    file: PathText | None = None

    def value(self, base: Path = Path(".")) -> str:
        """The secret itself; raises ConfigError (without the value) when it cannot be found."""
        if self.env:
            text = os.environ.get(self.env, "")
            if not text:
                raise ConfigError(f"the environment variable {self.env} is not set", hint="set it before the run")
            return text
        path = base / self.file
        try:
            text = path.read_text(encoding="utf-8").splitlines()[0].strip() if path.stat().st_size < 4096 else ""
        except (OSError, IndexError, UnicodeDecodeError):
            text = ""
        if not text:
            raise ConfigError(f"the secret file {path} cannot be read or is empty",
                              hint="put the secret on its first line; make the file readable to this user only")
        return text

    def __repr__(self) -> str:
        return f"Secret(env={self.env!r})" if self.env else f"Secret(file={self.file!r})"

    __str__ = __repr__


class Folder(_Strict):
    """A drop folder: its path on this machine, optionally the group its files get, and how
    caseworkers reach it (`shown_as`, e.g. a share's name on their PCs) for the notices."""

    path: PathText
    group: Code | None = None
    shown_as: PathText | None = None


class ListFile(_Strict):
    """`{file: PATH}`: a CSV of caseworker id -> address."""

    file: PathText


class Mail(_Strict):
    """The SMTP server and who gets which notice."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    host: Code
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    sender: Address = Field(alias="from")
    username: Secret | None = None
    password: Secret | None = None
    timeout: float = Field(default=30.0, gt=0, le=600)
    ca_file: PathText | None = None
    departments: dict[Code, list[Address]] = {}
    caseworkers: ListFile | None = None
    operations: list[Address] = []
    operations_summary: bool = False


class DeliveryConfig(_Strict):
    """The whole delivery file. `base` is the folder relative paths are taken from."""

    folders: dict[Code, PathText | Folder] = {}
    systems: dict[Code, PathText | Folder] = {}
    keep_nights: int = Field(default=30, ge=1, le=3650)
    file_mode: str = "0600"
    mail: Mail | None = None
    file: Path = Path("delivery.yaml")
    base: Path = Path(".")
    caseworker_addresses: dict[str, str] = {}

    @field_validator("file_mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        if not re.fullmatch(r"0?[0-7]{3}", value) or int(value, 8) & 0o137:
            raise ValueError("must be an octal mode such as \"0600\" or \"0640\": no execute bits, "
                             "nothing for others, the owner may not lose write")
        return value

    @property
    def mode(self) -> int:
        """`file_mode` as a number."""
        return int(self.file_mode, 8)

    def folder(self, kind: str, name: str) -> Folder:
        """The department's (`kind` 'folders') or system's ('systems') folder, paths resolved."""
        entry = getattr(self, kind)[name]
        folder = entry if isinstance(entry, Folder) else Folder(path=entry)
        return Folder(path=str(self.base / folder.path), group=folder.group, shown_as=folder.shown_as)


def delivery_from_env(value: str | Path | None) -> Path | None:
    """The delivery file: `value`, else $TARGETGROUP_DELIVERY, else None (no delivery)."""
    value = value or os.environ.get(ENV) or None
    return Path(value) if value else None


def load_delivery(path: Path | str, sources: SourcesConfig) -> DeliveryConfig:
    """Read and check a delivery file against the sources configuration."""
    path = Path(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping with folders, systems and mail", file=path,
                          hint="see docs/delivery.md for a complete example")
    try:
        config = DeliveryConfig(**data, file=path, base=path.resolve().parent)   # notices name absolute folders
    except ValidationError as exc:
        err = exc.errors()[0]
        key_path: KeyPath = tuple(p for p in err["loc"] if p not in ("function-after", "[key]")
                                  and not str(p).startswith(("str", "Folder", "Secret", "list[")))
        key_path = tuple("from" if p == "sender" else p for p in key_path)
        message = {"extra_forbidden": "unknown key", "missing": "required key is missing"}.get(
            err["type"], err["msg"].removeprefix("Value error, "))
        raise ConfigError(message, file=path, key=dotted(key_path) or None, line=line_of(lines, key_path),
                          hint="the keys are documented in docs/delivery.md") from None
    _check(config, sources, lines)
    if config.mail and config.mail.caseworkers:
        config = config.model_copy(update={"caseworker_addresses": _caseworkers(config, lines)})
    return config


def _fail(config: DeliveryConfig, lines: dict[KeyPath, int], key_path: KeyPath, message: str, hint: str):
    raise ConfigError(message, file=config.file, key=dotted(key_path), line=line_of(lines, key_path), hint=hint)


def _check(config: DeliveryConfig, sources: SourcesConfig, lines: dict[KeyPath, int]) -> None:
    known = {"folders": list(sources.departments), "systems": sources.systems}
    for kind, names in known.items():
        what = "department" if kind == "folders" else "case system"
        for name in getattr(config, kind):
            if name not in names:
                _fail(config, lines, (kind, name), f"unknown {what} '{name}'",
                      f"use one of {', '.join(names)} (declared in {sources.file})")
            folder = config.folder(kind, name)
            target = Path(folder.path)
            if not target.is_dir():
                _fail(config, lines, (kind, name), f"the folder {target} does not exist",
                      "create it (or mount the share) first; delivery does not create drop folders")
            if not os.access(target, os.W_OK | os.X_OK):
                _fail(config, lines, (kind, name), f"the folder {target} is not writable by this user",
                      "give the batch user write access to the folder")
            if folder.group is not None:
                try:
                    grp.getgrnam(folder.group)
                except KeyError:
                    _fail(config, lines, (kind, name, "group"), f"unknown group '{folder.group}'",
                          "name a group that exists on this machine")
    mail = config.mail
    if mail is None:
        return
    for dept in mail.departments:
        if dept not in sources.departments:
            _fail(config, lines, ("mail", "departments", dept), f"unknown department '{dept}'",
                  f"use one of {', '.join(sources.departments)} (declared in {sources.file})")
    if mail.security == "none" and not is_loopback(mail.host):
        _fail(config, lines, ("mail", "security"), f"security: none to {mail.host}, which is not this machine",
              "use starttls or tls; an unencrypted connection is only allowed to a loopback host")
    if (mail.username is None) != (mail.password is None):
        _fail(config, lines, ("mail", "username" if mail.username is None else "password"),
              "give both username and password, or neither", "both are {env: NAME} or {file: PATH}")
    for key in ("username", "password"):
        secret = getattr(mail, key)
        if secret is None:
            continue
        if (secret.env is None) == (secret.file is None):
            _fail(config, lines, ("mail", key), "a secret is either {env: NAME} or {file: PATH}",
                  "never write the secret itself into the delivery file")
        try:
            secret.value(config.base)
        except ConfigError as exc:
            _fail(config, lines, ("mail", key), f"secret not found: {exc.message}", exc.hint or "")


def _caseworkers(config: DeliveryConfig, lines: dict[KeyPath, int]) -> dict[str, str]:
    """caseworker id -> address from the caseworkers CSV (columns caseworker, address)."""
    path = config.base / config.mail.caseworkers.file
    check_size(path, MAX_LIST_BYTES, ConfigError)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        _fail(config, lines, ("mail", "caseworkers"), f"the caseworkers file {path} cannot be read "
              f"({type(exc).__name__})", "a UTF-8 CSV with the columns caseworker,address")
    if not rows or [c.strip().lower() for c in rows[0]] != ["caseworker", "address"]:
        raise ConfigError("the header must be caseworker,address", file=path, line=1,
                          hint="one row per caseworker: the id as in the extracts' caseworker column, the address")
    found: dict[str, str] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2 or name_problem(row[0].strip(), MAX_CODE) or not ADDRESS.match(row[1].strip()):
            raise ConfigError("expected a caseworker id and an e-mail address", file=path, line=number,
                              hint="two columns: caseworker,address")
        found[row[0].strip()] = row[1].strip()
    return found


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
