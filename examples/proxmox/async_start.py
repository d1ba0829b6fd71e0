"""List the VMs of a node and start one, with the asyncio client.

python async_start.py NODE VMID
"""

from __future__ import annotations

import asyncio
import sys

from pve_sdk import AsyncClient


async def main(node: str, vmid: int) -> None:
    async with AsyncClient() as client:
        vms = await client.nodes(node).qemu.get(full=True)
        print(", ".join(f"{vm.vmid}:{vm.status}" for vm in vms))
        upid = await client.nodes(node).qemu(vmid).status.start.post()
        status = await client.wait_task(upid, timeout_seconds=120)
        print(f"{upid}: {status.exitstatus}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
