"""List the nodes of a Proxmox VE cluster and the VMs of each (synchronous client).

PROXMOX_HOST, PROXMOX_USER and PROXMOX_TOKEN_ID + PROXMOX_TOKEN_SECRET (or PROXMOX_PASSWORD)
configure the client; see CONFIGURATION.md of the generated SDK.
"""

from __future__ import annotations

from pve_sdk import Client


def main() -> None:
    with Client() as client:
        for node in client.nodes.get():
            print(f"node {node.node}: {node.status}")
            for vm in client.nodes(node.node).qemu.get():
                print(f"  vm {vm.vmid} {vm.name or ''} {vm.status}")


if __name__ == "__main__":
    main()
