"""Delivery: each committed night's results to the people and systems that act on them.

    config.py   the delivery file (--delivery FILE, TARGETGROUP_DELIVERY), checked at load
    ledger.py   the `deliveries` table: one row per run per target, pending -> delivered | failed
    folders.py  department and system drop folders: atomic copies, LATEST, retention
    texts.py    the notices' words (da, en): counts only
    mail.py     SMTP: STARTTLS/TLS, AUTH, one message per notice, outcome per recipient
    night.py    plan the targets at commit; deliver them one at a time after it

The run's own files are written by `targetgroup.deliver`; this package copies and announces
them (docs/delivery.md). Only committed runs are delivered; a dry run never is.
"""

from __future__ import annotations

from targetgroup.delivery.config import DeliveryConfig, delivery_from_env, load_delivery
from targetgroup.delivery.night import Outcome, deliver_run, plan

__all__ = ["DeliveryConfig", "Outcome", "delivery_from_env", "deliver_run", "load_delivery", "plan"]
