"""User code against the Camunda job subset: activate, complete, fail, throw and update jobs."""

from __future__ import annotations

from typing import assert_type

from camunda_jobs import AsyncClient, Client, RawResponse
from camunda_jobs.models import (
    ActivatedJobResult,
    JobActivationResult,
    JobChangeset,
    JobFailRequest,
    TenantFilterEnum,
)
from camunda_jobs.types import JobKey, TenantId


def sync_calls(client: Client) -> None:
    result = client.job.activate(
        type="payment",
        timeout=30_000,
        max_jobs_to_activate=5,
        worker="w1",
        fetch_variable=["orderId"],
        tenant_ids=[TenantId("<default>")],
        tenant_filter=TenantFilterEnum.PROVIDED,
    )
    assert_type(result, JobActivationResult)
    for job in result.jobs:
        assert_type(job, ActivatedJobResult)
        assert_type(job.job_key, JobKey)
        client.job.complete(job.job_key, variables={"paid": True})
    key = JobKey("2251799813685249")
    client.job.fail(key, retries=2, error_message="boom", retry_back_off=1_000)
    client.job.fail(key, body=JobFailRequest(retries=0))
    client.job.throw_error(key, error_code="NOT_PAID")
    client.job.update(key, changeset={"retries": 3})
    client.job.update(key, changeset=JobChangeset(timeout=60_000))
    raw = client.job.with_raw_response.activate(type="t", timeout=1, max_jobs_to_activate=1)
    assert_type(raw, RawResponse[JobActivationResult])


async def async_calls(aclient: AsyncClient) -> None:
    result = await aclient.job.activate(type="t", timeout=1, max_jobs_to_activate=1)
    assert_type(result, JobActivationResult)
    await aclient.job.complete(JobKey("1"))


def mistakes(client: Client) -> None:
    client.job.complete("2251799813685249")  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.job.activate(type="t", timeout=1)  # expect-error: pyright=reportCallIssue mypy=call-arg
    client.job.throw_error(JobKey("1"), error_code=7)  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.job.update(JobKey("1"), changeset={"retrys": 3})  # expect-error: pyright=reportArgumentType mypy=arg-type
