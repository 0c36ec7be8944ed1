"""The moto backends the emulator works on, and the one lock that guards them.

moto's backends are plain Python objects without locking (its logs model says as much in
a TODO). The emulator changes them from its own threads (scheduler, log shipper, metrics)
while moto's threaded server answers requests, so every read or write of backend state,
from a request or from a simulator step, runs under STATE_LOCK.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from moto.cloudwatch.models import cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends
from moto.ecs.models import EC2ContainerServiceBackend, ecs_backends
from moto.logs.models import logs_backends
from moto.servicediscovery.models import servicediscovery_backends

# Reentrant: a moto request that the fidelity layer handles may call back into code that
# takes the lock again (for example StopTask → Cloud Map deregistration).
STATE_LOCK = threading.RLock()

# Fake credentials such as "testing" map to moto's default account.
ACCOUNT_ID = DEFAULT_ACCOUNT_ID


def ecs(region: str, account_id: str = ACCOUNT_ID) -> EC2ContainerServiceBackend:
    return ecs_backends[account_id][region]


def all_ecs() -> Iterator[EC2ContainerServiceBackend]:
    """Every ECS backend that exists now; moto creates them lazily on first use and drops
    them all on /moto-api/reset."""
    for per_account in list(ecs_backends.values()):
        yield from list(per_account.values())


def logs(region: str, account_id: str = ACCOUNT_ID):
    return logs_backends[account_id][region]


def cloudwatch(region: str, account_id: str = ACCOUNT_ID):
    return cloudwatch_backends[account_id][region]


def cloud_map(region: str, account_id: str = ACCOUNT_ID):
    return servicediscovery_backends[account_id][region]


def ec2(region: str, account_id: str = ACCOUNT_ID):
    return ec2_backends[account_id][region]
