"""Operations' mail when a nightly run fails: the cause (scrubbed, no CPR), best effort.

Called by `targetgroup run --delivery FILE` and the Prefect flows' failure hook. A run that
failed stored nothing, so nothing is delivered; operations are told by every channel that
works: this mail (if the delivery file loads and the server answers) besides the CLI's error
line and the flows' ALERT.txt.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from targetgroup import privacy
from targetgroup.errors import TargetGroupError

log = logging.getLogger("targetgroup.delivery")


def cause_of(exc: BaseException | str | None) -> str:
    """A failure's cause as operations may read it: a project error's scrubbed text, else its type."""
    if isinstance(exc, TargetGroupError):
        return privacy.scrub(str(exc))
    if isinstance(exc, str):
        return privacy.scrub(exc)
    return f"internal error ({type(exc).__name__})" if exc is not None else "unknown"


def mail_failure(settings, exc: BaseException | str | None, run_id: str = "") -> bool:
    """Mail operations that the run with `settings` (pipeline.RunSettings) failed; False when no
    mail went out (no delivery file, no operations, the file or the server failing)."""
    from targetgroup.config import load_sources  # noqa: PLC0415
    from targetgroup.delivery import texts  # noqa: PLC0415
    from targetgroup.delivery.config import load_delivery  # noqa: PLC0415
    from targetgroup.delivery.night import send_operations  # noqa: PLC0415

    if settings.delivery is None:
        return False
    try:
        config = load_delivery(Path(settings.delivery), load_sources(settings.sources, check_files=False))
    except Exception as error:  # noqa: BLE001 - the run failed already; say why no mail went out
        log.error("operations could not be mailed about the failed run: the delivery file did not load (%s)",
                  type(error).__name__)
        return False
    as_of = settings.as_of if isinstance(settings.as_of, date) else date.today()
    notice = texts.operations_notice(settings.lang, "fail", as_of, run_id, cause=cause_of(exc))
    return send_operations(config, notice, f"failed:{as_of}:{run_id or 'run'}", run_id or f"failed-{as_of}")
