import os
from typing import Any

from celery import Celery
from celery.signals import worker_init

from core.redis_policy import refuse_evicting_broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _refuse_evicting_broker(sender: Any = None, **kwargs: Any) -> None:
    """A worker on a Redis that may evict keys would lose queued tasks: it does not start."""
    refuse_evicting_broker(str(app.conf.broker_url or ""))
