"""The web overview's users file: who may log in, with which role and departments.

    OUT/users.yaml (default), mode 600:

        users:
          sara:
            role: caseworker          # caseworker | leader | admin
            departments: [BUF]        # a caseworker's departments (one or more)
            password: $argon2id$...   # argon2id hash (argon2-cffi); absent for single sign-on users

    load(path) -> Users        add / remove / set_password / save     verify(name, password) -> User | None

Passwords are hashed with argon2id (argon2-cffi's defaults). `verify` spends the same work for
an unknown name as for a wrong password (it checks against a dummy hash), so the answer's
timing does not tell which names exist. A single sign-on user has no password: the proxy
authenticates, the file still gives the role and the departments.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from targetgroup.errors import ConfigError
from targetgroup.privacy import looks_like_cpr
from targetgroup.yamlsource import load_yaml

ROLES = ("caseworker", "leader", "admin")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
DEPARTMENT = re.compile(r"[A-Z][A-Z0-9_]{0,15}")
MIN_PASSWORD = 12
DEFAULT_NAME = "users.yaml"

_hasher = PasswordHasher()   # argon2id, the library's recommended parameters


@functools.cache
def _dummy() -> str:
    """A hash of no one's password, to spend a real check's work on an unknown name."""
    return _hasher.hash("not a password of anyone: spends the work of a real check")


@dataclass
class User:
    """One user: name, role, departments (caseworkers), password hash (None: single sign-on only)."""

    name: str
    role: str
    departments: list[str] = field(default_factory=list)
    password_hash: str | None = None


@dataclass
class Users:
    """The users file's content, by name."""

    path: Path
    users: dict[str, User] = field(default_factory=dict)

    def verify(self, name: str, password: str) -> User | None:
        """The user when `password` is theirs, else None (unknown name, wrong password, SSO-only)."""
        user = self.users.get(name)
        stored = user.password_hash if user is not None and user.password_hash else _dummy()
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return user if user is not None and user.password_hash else None

    def add(self, name: str, role: str, departments: list[str], password: str | None) -> User:
        """Add a user (ConfigError if the name is taken or a value is not allowed)."""
        check_name(name)
        if name in self.users:
            raise ConfigError(f"user {name} exists already", file=self.path,
                              hint="use 'targetgroup users passwd' or 'users remove' first")
        user = User(name, check_role(role), check_departments(role, departments),
                    hash_password(password) if password is not None else None)
        self.users[name] = user
        return user

    def remove(self, name: str) -> None:
        """Remove a user (ConfigError if there is none of that name)."""
        self._get(name)
        del self.users[name]

    def set_password(self, name: str, password: str) -> None:
        """Give user `name` a new password."""
        self._get(name).password_hash = hash_password(password)

    def _get(self, name: str) -> User:
        if name not in self.users:
            raise ConfigError(f"no user {name}", file=self.path, hint="'targetgroup users list' shows them")
        return self.users[name]

    def save(self) -> None:
        """Write the file owner-only (mode 600), replacing it by one rename."""
        data = {"users": {u.name: {"role": u.role, **({"departments": u.departments} if u.departments else {}),
                                   **({"password": u.password_hash} if u.password_hash else {})}
                          for u in sorted(self.users.values(), key=lambda u: u.name)}}
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        part = self.path.with_name(self.path.name + f".part-{os.getpid()}")
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("# targetgroup web users (targetgroup users add|list|remove|passwd); keep owner-only\n")
            yaml.safe_dump(data, fh, sort_keys=False, allow_unicode=True)
        os.chmod(part, 0o600)
        os.replace(part, self.path)


def hash_password(password: str) -> str:
    """argon2id hash of `password` (ConfigError when it is shorter than MIN_PASSWORD)."""
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password is shorter than {MIN_PASSWORD} characters",
                          hint="choose a longer one (a passphrase of a few words)")
    return _hasher.hash(password)


def check_name(name: str) -> str:
    """A user name: letters, digits and . _ @ - (at most 64), starting with a letter or digit."""
    if not NAME.fullmatch(name or ""):
        raise ConfigError("a user name is 1-64 letters, digits and . _ @ -, starting with a letter or digit")
    if looks_like_cpr(name):
        raise ConfigError("a user name may not look like a CPR number (it is logged)")
    return name


def check_role(role: str) -> str:
    """One of ROLES."""
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}")
    return role


def check_departments(role: str, departments: list[str]) -> list[str]:
    """A caseworker needs one or more department codes (e.g. BUF); other roles have none."""
    codes = sorted(set(departments))
    bad = [d for d in codes if not DEPARTMENT.fullmatch(d)]
    if bad:
        raise ConfigError("a department is a code of capital letters and digits, e.g. BUF")
    if role == "caseworker" and not codes:
        raise ConfigError("a caseworker needs --department (one or more)")
    if role != "caseworker" and codes:
        raise ConfigError(f"a {role} has no department (only caseworkers do)")
    return codes


def load(path: Path, *, missing_ok: bool = False) -> Users:
    """Read the users file; an absent file is an empty one when `missing_ok` (for `users add`).

    ConfigError (file, key) for a malformed file, or one that others may read (it must be mode 600)."""
    if not path.exists():
        if missing_ok:
            return Users(path)
        raise ConfigError("users file not found", file=path,
                          hint="create a user first: targetgroup users add NAME --role ... --password-stdin")
    if path.stat().st_mode & 0o077:
        raise ConfigError("the users file may be read or written by others than its owner", file=path,
                          hint=f"chmod 600 {path}")
    data, lines = load_yaml(path)
    entries = (data or {}).get("users") if isinstance(data, dict) else None
    if entries is None:
        entries = {}
    if not isinstance(entries, dict):
        raise ConfigError("'users' must be a mapping of user names", file=path, line=lines.get(("users",)))
    users = Users(path)
    for name, entry in entries.items():
        line = lines.get(("users", name))
        if not isinstance(entry, dict):
            raise ConfigError("a user is a mapping with role, departments and password", file=path, line=line,
                              key=f"users.{name}")
        try:
            check_name(str(name))
            role = check_role(str(entry.get("role")))
            departments = check_departments(role, [str(d) for d in entry.get("departments") or []])
        except ConfigError as exc:
            raise ConfigError(exc.message, file=path, line=line, key=f"users.{name}") from None
        password = entry.get("password")
        if password is not None and not str(password).startswith("$argon2id$"):
            raise ConfigError("password must be an argon2id hash (set it with 'targetgroup users passwd')",
                              file=path, line=line, key=f"users.{name}.password")
        users.users[str(name)] = User(str(name), role, departments, password)
    return users
