"""Start a VM and wait for its task to finish (synchronous client).

python start_vm.py NODE VMID
"""

from __future__ import annotations

import sys

from pve_sdk import Client


def start(node: str, vmid: int) -> str:
    """Start ``vmid`` on ``node``; return the task's exit status."""
    with Client() as client:
        upid = client.nodes(node).qemu(vmid).status.start.post(timeout=60)
        status = client.wait_task(upid, timeout_seconds=120)
        return status.exitstatus or ""


if __name__ == "__main__":
    print(start(sys.argv[1], int(sys.argv[2])))
