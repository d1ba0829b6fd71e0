"""User code written against the Camunda 8.9 SDK (generated from ``rest-api-8.9.bundle.json``).

``tests/codegen/test_diff_real.py`` type-checks this file, unchanged, against the SDK of the
newer schema (``rest-api.bundle.json``) generated with the ``[renames]`` that ``loom diff
--suggest-renames`` proposes (``ElementInstanceFilterType = "ElementInstanceFilterFieldsType"``):
it passes pyright --strict and mypy --strict there, and fails without the rename. Importing the
old enum name warns at run time. It calls 30 operations.
"""

from __future__ import annotations

from camunda_sdk import AsyncClient, Client, NotFoundError
from camunda_sdk.models import (
    DecisionEvaluationById,
    ElementInstanceFilter,
    ElementInstanceFilterType,
    ProcessInstanceCreationInstructionById,
)
from camunda_sdk.types import (
    DecisionDefinitionId,
    ElementId,
    ProcessDefinitionId,
    ProcessDefinitionKey,
    ProcessInstanceKey,
)


def cluster_report(client: Client) -> str:
    """Three read-only calls: topology, licence, the current user."""
    topology = client.cluster.get_topology()
    licence = client.license.get()
    me = client.authentication.get()
    return f"{len(topology.brokers)} brokers, licence {licence.license_type}, user {me.username}"


def start_order(client: Client, order_id: str) -> ProcessInstanceKey:
    """Find the order process, read its XML, start an instance, read it back."""
    definitions = client.process_definition.search()
    key = definitions.items[0].process_definition_key if definitions.items else None
    if key is not None:
        client.process_definition.get(key)
        client.process_definition.get_xml(key)
    started = client.process_instance.create(
        body=ProcessInstanceCreationInstructionById(
            process_definition_id=ProcessDefinitionId("order-process"),
            variables={"orderId": order_id},
        )
    )
    instance = client.process_instance.get(started.process_instance_key)
    client.process_instance.get_call_hierarchy(instance.process_instance_key)
    return started.process_instance_key


def active_instances(client: Client, definition: ProcessDefinitionKey) -> list[ProcessInstanceKey]:
    """A search, and the same search through every page."""
    first = client.process_instance.search(page={"limit": 50})
    keys = [i.process_instance_key for i in first.items]
    keys.extend(i.process_instance_key for i in client.process_instance.search_all())
    del definition
    return keys


def waiting_tasks(client: Client, instance: ProcessInstanceKey) -> int:
    """Element instances of one kind (the enum lost its old name: the rename keeps it)."""
    found = client.element_instance.search(
        filter=ElementInstanceFilter(
            process_instance_key=instance,
            type=ElementInstanceFilterType.USER_TASK,
            element_id=ElementId("review"),
        )
    )
    for item in found.items:
        client.element_instance.get(item.element_instance_key)
    return len(found.items)


def work_jobs(client: Client) -> int:
    """Activate jobs, then complete, fail or throw an error on each."""
    activated = client.job.activate(type="payment", timeout=30_000, max_jobs_to_activate=10)
    for job in activated.jobs:
        amount = job.variables.get("amount")
        if amount is None:
            client.job.throw_error(job.job_key, error_code="NO_AMOUNT")
        elif not isinstance(amount, int):
            client.job.fail(job.job_key, retries=job.retries - 1)
        else:
            client.job.complete(job.job_key, variables={"paid": True})
    return len(activated.jobs)


def review_tasks(client: Client) -> None:
    """Assign and complete every user task."""
    for task in client.user_task.search().items:
        client.user_task.assign(task.user_task_key, assignee="me")
        client.user_task.complete(task.user_task_key)


def notify(client: Client, order_id: str) -> None:
    """Publish and correlate a message, broadcast a signal."""
    client.message.publish(name="paid", correlation_key=order_id, time_to_live=60_000)
    client.message.correlate(name="shipped", correlation_key=order_id)
    client.signal.broadcast(signal_name="stock-updated")


def fix_incidents(client: Client) -> int:
    """Resolve every open incident; read the variables of their instances."""
    incidents = client.incident.search().items
    for incident in incidents:
        client.incident.resolve(incident.incident_key)
    client.variable.search()
    return len(incidents)


def decide(client: Client) -> str:
    """Evaluate a decision by its id."""
    result = client.decision_definition.evaluate_decision(
        body=DecisionEvaluationById(
            decision_definition_id=DecisionDefinitionId("discount"), variables={"total": 120}
        )
    )
    return result.output


def test_clock(client: Client) -> None:
    """Pin the engine's clock, then reset it."""
    client.clock.pin(timestamp=1_700_000_000_000)
    client.clock.reset()


def cancel_quietly(client: Client, instance: ProcessInstanceKey) -> bool:
    """Cancel an instance; a missing one is not an error here. Status through the raw view."""
    try:
        client.process_instance.cancel(instance)
    except NotFoundError:
        return False
    raw = client.process_instance.with_raw_response.get(instance)
    return raw.status_code == 200


async def topology_async(client: AsyncClient) -> int:
    """The same methods on the async client."""
    topology = await client.cluster.get_topology()
    instances = await client.process_instance.search()
    return len(topology.brokers) + len(instances.items)
