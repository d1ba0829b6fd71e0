"""camunda-orchestration-sdk 10.0.1's own job worker, run by the peer's interpreter.

It runs in ``build/peers/camunda`` (no loom there), so it is standalone. Two modes:

- ``noop TYPE COUNT CONCURRENCY``: a no-op handler; prints ``{"jobs": n, "seconds": t}`` once
  COUNT jobs ran (the benchmark);
- ``scenario``: handlers for ``peer-ok`` (returns variables), ``peer-flaky`` (raises once, then
  completes) and ``peer-biz`` (raises ``JobError``); prints ``{"handled": n}`` once 4 handler
  calls happened (the compatibility test).

The REST address comes from ``CAMUNDA_REST_ADDRESS``; auth is ``NONE``.

    build/peers/camunda/bin/python bench/_camunda_peer_worker.py noop bench-noop 300 16
"""

import asyncio
import json
import os
import sys
import time
from typing import Any

from camunda_orchestration_sdk import CamundaAsyncClient, JobError, WorkerConfig


async def wait_for(counter: list[int], target: int, timeout_seconds: float) -> None:
    deadline = time.monotonic() + timeout_seconds
    while counter[0] < target and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


async def noop(job_type: str, count: int, concurrency: int) -> None:
    done = [0]
    first: list[float] = []

    async def handler(job: Any) -> dict[str, Any]:
        if not first:
            first.append(time.perf_counter())
        done[0] += 1
        return {}

    client = CamundaAsyncClient(configuration={"CAMUNDA_AUTH_STRATEGY": "NONE"})
    config = WorkerConfig(
        job_type=job_type,
        job_timeout_milliseconds=30_000,
        request_timeout_milliseconds=10_000,
        max_concurrent_jobs=concurrency,
    )
    began = time.perf_counter()
    worker = client.create_job_worker(config, handler, execution_strategy="async")
    await wait_for(done, count, 600)
    seconds = time.perf_counter() - began
    # Its stop() cancels reports still on the wire: give the last completions time to land.
    await asyncio.sleep(1.0)
    worker.stop()
    print(json.dumps({"jobs": done[0], "seconds": seconds}), flush=True)


async def scenario() -> None:
    handled = [0]
    flaky_calls = [0]

    async def ok(job: Any) -> dict[str, Any]:
        handled[0] += 1
        return {"seen": job.variables.to_dict()["n"] * 2, "worker": "camunda-sdk"}

    async def flaky(job: Any) -> dict[str, Any]:
        handled[0] += 1
        flaky_calls[0] += 1
        if flaky_calls[0] == 1:
            raise RuntimeError("first attempt fails")
        return {"attempt": flaky_calls[0]}

    async def biz(job: Any) -> None:
        handled[0] += 1
        raise JobError("NOT_ALLOWED", "the peer refuses", {"why": "policy"})

    client = CamundaAsyncClient(configuration={"CAMUNDA_AUTH_STRATEGY": "NONE"})
    workers = [
        client.create_job_worker(
            WorkerConfig(
                job_type=name,
                job_timeout_milliseconds=10_000,
                request_timeout_milliseconds=2_000,
                max_concurrent_jobs=4,
            ),
            handler,
            execution_strategy="async",
        )
        for name, handler in (("peer-ok", ok), ("peer-flaky", flaky), ("peer-biz", biz))
    ]
    await wait_for(handled, 4, 60)
    await asyncio.sleep(0.5)  # let the last report reach the server
    for worker in workers:
        worker.stop()
    print(json.dumps({"handled": handled[0]}), flush=True)


def main() -> None:
    if not os.environ.get("CAMUNDA_REST_ADDRESS"):
        sys.exit("set CAMUNDA_REST_ADDRESS")
    if sys.argv[1:2] == ["noop"]:
        asyncio.run(noop(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
    else:
        asyncio.run(scenario())
    sys.stdout.flush()
    os._exit(0)  # the peer's worker threads do not always end on stop()


if __name__ == "__main__":
    main()
